from homer_rt.cli import main

raise SystemExit(main())
