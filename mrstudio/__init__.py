"""MR Studio: accelerated MRI reconstruction and CT slice interpolation workstation.

Importing the package is cheap: no torch, no Qt. Heavy imports happen inside the
functions that need them.
"""

__version__ = "0.1.0"
