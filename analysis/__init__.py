"""Tables, plots and the `dipsim` command line, on top of the model in `sim`."""
