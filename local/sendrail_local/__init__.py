"""The local stack: the real handlers on an embedded AWS (moto), a real SMTP sink, an HTTP
front that speaks API Gateway's event format, a scheduler that fires like EventBridge,
and an optional virtual clock. For development, demos and simulation; its state lives as
long as the process."""
