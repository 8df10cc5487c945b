from bookings.cli import main

raise SystemExit(main())
