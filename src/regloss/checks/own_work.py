"""Refuse graded functions that hand their work to another library.

A graded exercise asks for NumPy. :func:`assert_own_work` runs the student's
function once under :func:`sys.setprofile` and records every Python frame and
every C function it reaches; a call into ``torch``, ``scipy``, ``sklearn``,
``statsmodels`` or ``regloss`` (or into an extra list of forbidden NumPy
helpers, such as ``numpy.polyfit`` for a fit the student must derive) fails
the check with a message that says which call it was. What runs inside a
function the test itself passes in (a noise model, a fit) is not the student's
work and is not counted.
"""

from __future__ import annotations

import sys
import warnings

import numpy as np

from regloss.checks.mistakes import Hint
from regloss.checks.remote import Elsewhere

#: The hint of a graded function that hands its computation to another library.
DELEGATES = Hint("delegates", "This exercise asks you to write the computation yourself in NumPy; a function that "
                              "hands it to another library earns no points for it.")

FORBIDDEN_MODULES = ("torch", "scipy", "sklearn", "statsmodels", "regloss", "jax", "tensorflow", "pandas")


def _module_of(event, frame, arg):
    if event == "call":
        return frame.f_globals.get("__name__", ""), frame.f_code.co_name
    # C functions: module functions carry __module__; methods carry __self__
    mod = getattr(arg, "__module__", None)
    qual = getattr(arg, "__qualname__", getattr(arg, "__name__", "?"))
    if not mod:
        owner = getattr(arg, "__self__", None)
        mod = type(owner).__module__ if owner is not None else ""
        if mod == "builtins" and hasattr(owner, "__name__"):  # a module's C function bound to the module
            mod = owner.__name__
    return mod or "", qual


def _is_forbidden(module, qualname, forbidden_modules, forbidden_functions):
    """A call is forbidden by its top-level package, or by (package, function name)."""
    top = module.split(".")[0]
    if top in forbidden_modules:
        return True
    short = qualname.rsplit(".", 1)[-1]
    return any(f.split(".")[0] == top and f.rsplit(".", 1)[-1] == short for f in forbidden_functions)


def given_code(args, kwargs):
    """The code objects of the functions a call is given (in its arguments, also inside
    lists, tuples, dicts and :class:`functools.partial`): what runs inside them is the
    caller's work, not the graded function's (a noise model of ``regloss.teaching``
    passed to a Monte Carlo study). Functions of the notebook itself (``__main__``: the
    student's own, a test cell's lambda) are not among them: what they call counts."""
    from regloss.arguments import code_of, functions_given

    return {code_of(f) for f in functions_given(args, kwargs)
            if code_of(f) is not None and getattr(getattr(f, "__func__", f), "__module__", None) != "__main__"}


def forbidden_calls(fn, *args, forbidden_modules=FORBIDDEN_MODULES, forbidden_functions=(), **kwargs):
    """Run ``fn(*args, **kwargs)`` and list the forbidden calls it made.

    Parameters
    ----------
    fn : callable
    forbidden_modules : tuple of str
        Top-level packages a graded function may not call into.
    forbidden_functions : tuple of str
        Fully qualified functions also refused, e.g. ``"numpy.polyfit"``.

    Returns
    -------
    calls : list of str
        ``"module.function"`` for each distinct forbidden call, in order.
    result : object or None
        What ``fn`` returned (``None`` if it raised).
    """
    if isinstance(fn, Elsewhere):
        # the student's function runs in the grader's answer process: profile it there
        # modules travel as "module:<name>" beside the functions (torch is importable in some
        # assignments' answer processes, so the module check must be made there too)
        wanted = tuple(forbidden_functions) + tuple(f"module:{m}" for m in forbidden_modules)
        return fn.forbidden_calls(args, kwargs, wanted), None
    seen = []
    own_file = __file__
    from regloss.arguments import GivenCalls

    given = GivenCalls(given_code(args, kwargs))

    def profiler(frame, event, arg):
        if given.inside(frame, event):
            return
        if event not in ("call", "c_call"):
            return
        if frame.f_code.co_filename == own_file:
            return
        module, qual = _module_of(event, frame, arg)
        if _is_forbidden(module, qual, forbidden_modules, forbidden_functions):
            name = f"{module}.{qual}"
            if name not in seen:
                seen.append(name)

    result = None
    old = sys.getprofile()
    sys.setprofile(profiler)
    try:
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")
            result = fn(*args, **kwargs)
    except Exception:  # noqa: BLE001 - a crash is judged by the value checks, not here
        result = None
    finally:
        sys.setprofile(old)
    return seen, result


def assert_own_work(fn, *args, forbidden_modules=FORBIDDEN_MODULES, forbidden_functions=(), **kwargs):
    """Fail if ``fn`` hands its computation to another library.

    Raises
    ------
    AssertionError
        Naming the first forbidden calls, e.g. ``torch.nn.functional.l1_loss``.
    """
    calls, _ = forbidden_calls(fn, *args, forbidden_modules=forbidden_modules,
                               forbidden_functions=forbidden_functions, **kwargs)
    if calls:
        name = getattr(fn, "__name__", "this function")
        shown = ", ".join(calls[:3]) + (" ..." if len(calls) > 3 else "")
        raise AssertionError(f"{name} calls {shown}. {DELEGATES}")
