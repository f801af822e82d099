"""Training: the GRACE trainer (an ultralytics ``DetectionTrainer`` subclass)."""
