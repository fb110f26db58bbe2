"""Model definitions; importing this package registers every custom Keras object."""
from core.models import denoiser  # noqa: F401
from core.models import vae  # noqa: F401
from core.models import documents  # noqa: F401
from core.models import classifier  # noqa: F401
