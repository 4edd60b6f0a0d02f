"""pyinfra's fact modules, with the same class names."""
