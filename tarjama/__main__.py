"""``python -m tarjama`` is the ``tarjama`` command."""

from tarjama.cli import main

raise SystemExit(main())
