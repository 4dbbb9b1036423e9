"""Configuration problems: one exception type that carries every problem found in a run.

An admin fixing ha.cf wants the whole list at once, not one error per restart, so parsers
collect problems into a `ProblemLog` and raise a single `ConfigError` at the end. Each
problem names file, line, directive, what is wrong and (where we know it) the fix, rendered
as `FILE:LINE: directive: message (hint)` - the shape compilers use, so editors can jump to it.
Warnings use the model's `ConfigWarning`; they never stop a configuration from loading.
"""

from __future__ import annotations

from dataclasses import dataclass

from engine.config.model import ConfigWarning, SourceLocation


@dataclass(frozen=True, slots=True, kw_only=True)
class ConfigProblem:
    """One thing wrong with a configuration file; `line` is None for whole-file problems."""

    file: str
    line: int | None
    directive: str
    message: str
    hint: str | None = None

    def __str__(self) -> str:
        place = self.file if self.line is None else f"{self.file}:{self.line}"
        text = (
            f"{place}: {self.directive}: {self.message}"
            if self.directive
            else (f"{place}: {self.message}")
        )
        return text if self.hint is None else f"{text} ({self.hint})"


class ConfigError(Exception):
    """The configuration cannot be used; `problems` lists every reason, in file order."""

    def __init__(self, problems: list[ConfigProblem] | tuple[ConfigProblem, ...]) -> None:
        assert problems, "a ConfigError without a problem would tell the admin nothing"
        self.problems: tuple[ConfigProblem, ...] = tuple(problems)
        super().__init__(str(self))

    def __str__(self) -> str:
        return "\n".join(str(problem) for problem in self.problems)


class ValueProblem(Exception):
    """A single value is wrong; raised by value helpers and turned into a ConfigProblem.

    The helpers do not know the file or line, so they raise this and the reader that called
    them adds the location.
    """

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint


class ProblemLog:
    """Collects the errors and warnings of one file while it is read."""

    def __init__(self, file: str) -> None:
        self.file = file
        self.problems: list[ConfigProblem] = []
        self.warnings: list[ConfigWarning] = []

    def error(
        self, line: int | None, directive: str, message: str, hint: str | None = None
    ) -> None:
        self.problems.append(
            ConfigProblem(
                file=self.file, line=line, directive=directive, message=message, hint=hint
            )
        )

    def value_error(self, line: int | None, directive: str, problem: ValueProblem) -> None:
        self.error(line, directive, problem.message, problem.hint)

    def warn(self, line: int, directive: str, message: str) -> None:
        text = f"{directive}: {message}" if directive else message
        location = SourceLocation(file=self.file, line=line)
        self.warnings.append(ConfigWarning(location=location, message=text))

    def sorted_problems(self) -> tuple[ConfigProblem, ...]:
        """Every problem, in line order (whole-file problems first)."""
        return tuple(sorted(self.problems, key=lambda problem: problem.line or 0))

    def raise_if_errors(self) -> None:
        if self.problems:
            raise ConfigError(self.sorted_problems())
