"""flux.core: the handle (flux.core.handle.Flux)."""
