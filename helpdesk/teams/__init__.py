"""Teams: groups of staff, the mailboxes routed to them and who may see which ticket."""
