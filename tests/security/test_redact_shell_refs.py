"""A shell reference to an environment variable is not a secret: the redactor leaves ``$NAME``, ``"$NAME"``,
``${NAME:-}`` and ``${NAME:?message}`` as written after a secret-looking name or flag (a printed command stays
a command), while a literal value, or a literal default of a secret's expansion, is still masked."""

from __future__ import annotations

import json
import string

from hypothesis import given
from hypothesis import strategies as st

from ecc_hooks.core.redact import MASK, redact
from ecc_hooks.runtime import agents
from tests.security.secret_kinds import secret_texts

KEYWORD_NAMES = ("OPENAI_API_KEY", "GH_TOKEN", "DB_PASSWORD", "AWS_SECRET_ACCESS_KEY", "CODEX_API_KEY", "PGPASSWORD")
names = st.one_of(
    st.sampled_from(KEYWORD_NAMES),
    st.tuples(
        st.sampled_from(string.ascii_uppercase + "_"),
        st.text(string.ascii_uppercase + string.digits + "_", max_size=12),
    ).map("".join),
)


@st.composite
def references(draw: st.DrawFn) -> str:
    name = draw(names)
    form = draw(
        st.sampled_from(["${n}", "${{{n}}}", "${{{n}:-}}", "${{{n}-}}", "${{{n}:-${o}}}", "${{{n}:?{n} is not set}}"])
    )
    ref = form.format(n=name, o=draw(names))
    return draw(st.sampled_from([ref, f'"{ref}"']))


@st.composite
def commands(draw: st.DrawFn) -> str:
    """A shell line that hands a variable to a secret-named flag, assignment or expansion test."""
    key, ref = draw(st.sampled_from(KEYWORD_NAMES)), draw(references())
    flag = draw(st.sampled_from(["--api-key", "--token", "--password", "-p", "--client-secret"]))
    shape = draw(
        st.sampled_from(
            [
                "{k}={r} codex exec hi",
                "export {k}={r}",
                "tool {f} {r} --verbose",
                "tool {f}={r}",
                'if [ -z {r} ]; then echo "no key"; exit 1; fi',
                "env {k}={r} {f} {r}",
                "echo {r}",
            ]
        )
    )
    return shape.format(k=key, r=ref, f=flag)


@given(commands(), st.booleans())
def test_shell_variable_references_survive(command: str, as_json: bool) -> None:
    text = json.dumps({"command": command}) if as_json else command
    assert redact(text) == text


@given(secret_texts())
def test_a_reference_next_to_a_secret_does_not_shield_it(example: tuple[str, str, str]) -> None:
    _, text, sensitive = example
    assert sensitive not in redact(f'OPENAI_API_KEY="$OPENAI_API_KEY" {text} --token $GH_TOKEN')


def test_the_codex_credential_check_prints_as_written() -> None:
    line = agents.get("codex").command(["codex", "exec", "hi"])
    assert '"${OPENAI_API_KEY:-}"' in line and redact(line) == line


def test_literal_values_are_still_masked() -> None:
    for text, secret in (
        ("${DB_PASSWORD:-hunter2x9}", "hunter2x9"),
        ("password=$ecret123", "$ecret123"),
        ("--token $GH_TOKENabc9", "abc9"),
        ('PASSWORD=$X"abc9z"', "abc9z"),
        ("token: ${X}y7q", "y7q"),
    ):
        assert secret not in redact(text) and MASK in redact(text), text
