import sys

from kprune_report.cli import main

sys.exit(main())
