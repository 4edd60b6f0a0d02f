"""Data for every host of the example."""

app_name = "oxinfra-example"
