"""Pure domain logic: no AWS, no HTTP, no Lambda events. Tested without sockets."""
