"""A Python client for this project's Flux instances, with flux-core's
documented names: ``flux.Flux``, ``flux.job.*`` (submit, wait, result,
cancel, kill, job_list, event_watch, JobspecV1, JobID, FluxExecutor).

Pure Python: the standard library and msgpack (Debian's python3-msgpack;
without it a slower built-in codec is used). It speaks the wire protocol of
overlay/PROTOCOL.md over the instance's local socket (FLUX_URI).
"""

from flux.core.handle import Flux
from flux import constants

__all__ = ["Flux", "constants"]
