"""``python -m mlpnet`` runs the command line, like the ``mlpnet`` script."""

from .cli import main

if __name__ == "__main__":
    main()
