from nejumi.cli import main

raise SystemExit(main())
