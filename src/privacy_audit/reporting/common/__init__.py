"""What both reports share: escaped HTML, charts, the personal-value scan, the papermill runner."""
