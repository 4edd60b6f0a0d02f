"""pyinfra's operation modules, with the same names and signatures."""
