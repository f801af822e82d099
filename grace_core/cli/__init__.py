"""The ``grace`` command line. Each sub-module registers one command group through ``add_parser``."""
