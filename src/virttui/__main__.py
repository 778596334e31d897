from virttui.cli import main

raise SystemExit(main())
