"""The one error type users see: printed as a single line, never as a traceback."""


class ReportError(Exception):
    """A problem with the user's input (file, option, CSV); the message names file and place."""
