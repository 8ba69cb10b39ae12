"""Documents (visit results and reports): visibility, loading and search.

``visibility`` holds the one access rule; ``records`` loads rows into light records."""
