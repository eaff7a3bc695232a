import sys
from pathlib import Path

# The package lives in analysis/, next to the tests; it is not installed.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
