"""Haven: a self-hostable child-safety platform for online services."""

__version__ = "0.1.0"
