r"""The registry of schedule methods: one entry per method, each with a typed options dataclass.

A method module in :mod:`symsched.schedules.methods` declares its options as a frozen dataclass
(:func:`symsched._options.option` fields) and registers its builder with :func:`register_method`.
Everything that lists or builds methods — :func:`build`, the ``schedule`` and ``kl`` commands,
``sweep``, the reference set and the claims — reads :data:`METHODS`, so a new method is one new
module (docs/contributing: CONTRIBUTING.md, "Adding a schedule method").
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Generic, TypeAlias, TypeVar

from symsched._options import make_options, option_fields
from symsched._validate import check_steps
from symsched.schedules._schedule import Schedule

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

    from symsched.schedules.families import Family

__all__ = [
    "D_VECTOR_BYTES",
    "GRID_BYTES_PER_LEVEL",
    "METHODS",
    "AnyMethod",
    "Method",
    "build",
    "family_of",
    "get_method",
    "grid_memory",
    "method_names",
    "register_method",
    "spectrum_search_memory",
]

OptionsT = TypeVar("OptionsT", bound="DataclassInstance")


@dataclass(frozen=True)
class Method(Generic[OptionsT]):
    r"""A registered schedule method.

    Attributes
    ----------
    name
        The name users type (``symsched schedule NAME``).
    summary
        One line: what the grid is, with its source.
    options
        The frozen dataclass of the method's options.
    builder
        ``builder(steps, options) -> Schedule``.
    example
        A command line that uses the method (shown by ``symsched schedule NAME --help``).
    family
        For smooth families: ``family(options) -> Family`` (the symbolic :math:`\rho(u)`), which
        the Euler–Maclaurin expansion needs; ``None`` for the other methods.
    memory
        ``memory(steps, options) -> (bytes, option)``: an upper estimate of what building the
        grid allocates and the option that drives it, checked against the budget before any work
        (docs/cli.md#size-guards); ``None``: a grid's worth, :data:`GRID_BYTES_PER_LEVEL` per level.
    source_spectrum
        ``source_spectrum(given) -> bool``: whether a command that owns a data spectrum (``kl``)
        passes it to the method, given the options the user typed (``tangent``: unless ``c`` is
        given; ``stein``: for the ``gaussian`` model without ``c``/``dim``). ``None``: whenever the
        method takes a spectrum.
    """

    name: str
    summary: str
    options: type[OptionsT]
    builder: Callable[[int, OptionsT], Schedule]
    example: str
    family: Callable[[OptionsT], Family] | None = None
    source_spectrum: Callable[[Mapping[str, object]], bool] | None = None
    memory: Callable[[int, OptionsT], tuple[float, str]] | None = None

    @property
    def takes_spectrum(self) -> bool:
        """Whether one of the options is a covariance spectrum."""
        return any(f.kind == "spectrum" for f in option_fields(self.options))

    @property
    def needs_model(self) -> bool:
        """Whether the method needs a ``--model`` (a score model, or a published table's model)."""
        return any(f.name == "model" for f in option_fields(self.options))

    def wants_source_spectrum(self, given: Mapping[str, object]) -> bool:
        """Whether a command's own data spectrum goes to this method (see ``source_spectrum``).

        Parameters
        ----------
        given
            The options the user typed.

        Returns
        -------
        bool
            ``False`` if the method takes no spectrum, else ``source_spectrum(given)`` (``True``
            when that is ``None``).
        """
        if not self.takes_spectrum:
            return False
        return True if self.source_spectrum is None else self.source_spectrum(given)

    def memory_estimate(self, steps: int, options: OptionsT) -> tuple[float, str]:
        """Bytes building ``steps`` steps with ``options`` allocates at most (an estimate).

        Returns
        -------
        (float, str)
            The estimate and the option (``steps``, ``samples`` ...) that drives it.
        """
        if self.memory is not None:
            return self.memory(steps, options)
        return grid_memory(steps), "steps"

    def make_options(self, **values: object) -> OptionsT:
        """The options dataclass from keywords.

        Parameters
        ----------
        **values
            The method's options; ``None`` means the method's default.

        Returns
        -------
        OptionsT
            The method's options dataclass.

        Raises
        ------
        ValueError
            If a keyword is not an option of the method, or a value is refused.
        """
        return make_options(self.options, values, owner=f"method {self.name}")

    def build(self, steps: int, **options: object) -> Schedule:
        """The N-step grid with these options.

        Parameters
        ----------
        steps
            The number of steps N (N+1 levels).
        **options
            The method's options (:meth:`make_options`); ``None`` means the method's default.

        Returns
        -------
        Schedule
            The grid.

        Raises
        ------
        ValueError
            If ``steps`` or an option is invalid, or the grid leaves the input range.
        """
        return self.build_with(check_steps(steps, "steps"), self.make_options(**options))

    def build_with(self, steps: int, options: OptionsT) -> Schedule:
        """The grid of ``steps`` (already checked) for an option set built by
        :meth:`make_options`; a grid whose levels leave the input range names the ends.

        The schedule keeps ``options`` (:attr:`Schedule.options`), so that the same method can
        build it at another N (:attr:`Schedule.ending_at_zero`)."""
        try:
            sched = self.builder(steps, options)
        except ValueError as exc:
            msg = str(exc)
            if not msg.startswith("sigmas must be"):
                raise
            # the ends were accepted, the levels between them were not: say which ends
            raise ValueError(
                f"{self.name}: its {steps}-step grid leaves the input range ({msg}); choose "
                "sigma_min and sigma_max further inside it"
            ) from None
        if sched.method == self.name and sched.options is None:
            # set once, on the object the builder just made (the dataclass is frozen)
            object.__setattr__(sched, "options", options)
        return sched


GRID_BYTES_PER_LEVEL = 256
"""Memory per level of a grid built from a SymPy family: the lambdified expression's temporaries
and the printed levels (measured about 150 bytes per level at N = 3e7)."""

D_VECTOR_BYTES = 192.0
"""Memory per eigenvalue of a method's passes over the whole spectrum (compression, the final
exact evaluation): 24 float64 d-vectors (measured 138 bytes per eigenvalue, the tracemalloc peak
of ``kl-optimal`` and ``flow --shift auto`` builds at d = 1e5 and 4e5, N = 12-20)."""


def grid_memory(steps: int) -> float:
    """Bytes of a ``steps``-step grid: :data:`GRID_BYTES_PER_LEVEL` for each of its
    ``steps + 1`` levels (every method's estimate includes it)."""
    return GRID_BYTES_PER_LEVEL * (steps + 1.0)


def spectrum_search_memory(
    bytes_per_step_and_node: float,
    steps: int,
    nodes: int,
    dimension: int,
    bytes_per_step: float = 0.0,
) -> tuple[float, str]:
    """The estimate of a search over a (compressed) spectrum: ``bytes_per_step_and_node`` per
    step and searched eigenvalue, ``bytes_per_step`` per step (the search's own step vectors),
    :data:`D_VECTOR_BYTES` per eigenvalue of the full spectrum and the grid; named after the
    larger of the spectrum's term and the steps' terms (either at a tie)."""
    by_steps = (bytes_per_step_and_node * nodes + bytes_per_step) * steps + grid_memory(steps)
    by_d = D_VECTOR_BYTES * dimension
    return by_steps + by_d, "eigenvalues" if by_d > by_steps else "steps"


AnyMethod: TypeAlias = "Method[Any]"
"""A registered method of any options class (the registry holds methods of different ones)."""

METHODS: dict[str, AnyMethod] = {}
"""Every registered method by name (complete once :mod:`symsched` is imported)."""


def register_method(
    name: str,
    *,
    options: type[OptionsT],
    summary: str,
    example: str,
    family: Callable[[OptionsT], Family] | None = None,
    source_spectrum: Callable[[Mapping[str, object]], bool] | None = None,
    memory: Callable[[int, OptionsT], tuple[float, str]] | None = None,
) -> Callable[[Callable[[int, OptionsT], Schedule]], Callable[[int, OptionsT], Schedule]]:
    """Decorator: register ``builder(steps, options) -> Schedule`` as method ``name``.

    Parameters
    ----------
    name
        The method name users type (``symsched schedule NAME``).
    options
        The frozen dataclass of the method's options.
    summary, example, family, source_spectrum, memory
        As the attributes of :class:`Method`.

    Returns
    -------
    callable
        The decorator; it returns ``builder`` unchanged.

    Raises
    ------
    ValueError
        (From the decorator) if another builder is already registered under ``name``.
    """

    def deco(builder: Callable[[int, OptionsT], Schedule]) -> Callable[[int, OptionsT], Schedule]:
        if name in METHODS and METHODS[name].builder is not builder:
            raise ValueError(f"schedule method {name!r} is registered twice")
        METHODS[name] = Method(
            name, summary, options, builder, example, family, source_spectrum, memory
        )
        return builder

    return deco


def get_method(name: str) -> AnyMethod:
    """The registered method ``name``.

    Parameters
    ----------
    name
        A name of :data:`METHODS`.

    Returns
    -------
    AnyMethod
        The method.

    Raises
    ------
    ValueError
        If ``name`` is not registered (the message lists the valid names).
    """
    if name not in METHODS:
        raise ValueError(f"unknown method {name!r}; choose one of {', '.join(sorted(METHODS))}")
    return METHODS[name]


def method_names(
    *, spectrum: bool | None = None, model: bool | None = None, family: bool | None = None
) -> tuple[str, ...]:
    """Registered method names, sorted, optionally filtered by what they take.

    Parameters
    ----------
    spectrum, model, family
        ``True`` keeps only methods that take a spectrum / need a score model / are smooth
        families; ``False`` keeps only those that do not; ``None`` does not filter.

    Returns
    -------
    tuple of str
        The names that pass every filter.
    """

    def keep(m: AnyMethod) -> bool:
        checks = (
            (spectrum, m.takes_spectrum),
            (model, m.needs_model),
            (family, m.family is not None),
        )
        return all(want is None or want == have for want, have in checks)

    return tuple(sorted(n for n, m in METHODS.items() if keep(m)))


def build(method: str, steps: int, **options: object) -> Schedule:
    """Build a schedule by method name, e.g. ``build("karras", 10, rho=7.0)``.

    Parameters
    ----------
    method
        A name of :data:`METHODS`.
    steps
        The number of steps N (N+1 levels).
    **options
        The method's options (its dataclass fields); ``None`` means "the method's default".

    Returns
    -------
    Schedule
        The grid.

    Raises
    ------
    ValueError
        An unknown method, an option the method does not take (the message lists the valid
        ones), or a value the method refuses.
    """
    return get_method(method).build(steps, **options)


def family_of(method: str, options: Mapping[str, object]) -> Family:
    """The symbolic family :math:`\\rho(u)` of a smooth-family method with these options.

    Parameters
    ----------
    method
        A name of :data:`METHODS`.
    options
        The method's options.

    Returns
    -------
    Family
        The family built from the options.

    Raises
    ------
    ValueError
        If the method is unknown or is not a smooth schedule family, or an option is refused.
    """
    m = get_method(method)
    if m.family is None:
        fams = ", ".join(method_names(family=True))
        raise ValueError(f"method {method} is not a smooth schedule family; choose one of {fams}")
    return m.family(m.make_options(**options))
