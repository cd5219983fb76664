"""``python -m trackrun``: the same command line as the ``trackrun`` script."""

from trackrun.cli.main import main

if __name__ == "__main__":
    main()
