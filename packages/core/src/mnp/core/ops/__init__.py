"""Every differentiable op of mnp.core, one module per family; each module's ``__all__``
is the public part."""
from .binary import *  # noqa: F401,F403
from .unary import *  # noqa: F401,F403
from .reduce import *  # noqa: F401,F403
from .shape import *  # noqa: F401,F403
from .join import *  # noqa: F401,F403
from .repeat import *  # noqa: F401,F403
from .index import *  # noqa: F401,F403
from .linalg import *  # noqa: F401,F403
from .vector import *  # noqa: F401,F403
from .softmax import *  # noqa: F401,F403
from .gather import *  # noqa: F401,F403
from .diag import *  # noqa: F401,F403
from .einsum import *  # noqa: F401,F403
from .arrange import *  # noqa: F401,F403
from .order import *  # noqa: F401,F403
from .scan import *  # noqa: F401,F403
from .rounding import *  # noqa: F401,F403
from .special import *  # noqa: F401,F403
from .trig import *  # noqa: F401,F403
from .logical import *  # noqa: F401,F403
from .inplace import *  # noqa: F401,F403
from .binary import compare  # noqa: F401
from .index import getitem, index_key, setitem  # noqa: F401
