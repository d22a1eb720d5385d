"""The repository's folders and the files the scripts share."""
from pathlib import Path

TOOLS = Path(__file__).resolve().parents[1]
REPO = TOOLS.parent
DEMO_MODEL = REPO / "models" / "demo-gestures"
EXAMPLES = REPO / "examples"
FIXTURES = REPO / "Tests" / "SignBERTRuntimeTests" / "Fixtures"
V1_SMALL_CHECKPOINT = FIXTURES / "parity" / "v1-small" / "training_run" / "checkpoint_best.pth"
