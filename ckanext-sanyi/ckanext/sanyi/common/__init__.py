"""What every feature of the extension shares: the acting user, paging, time, CSRF."""
