"""Parses CQL statements with ScyllaDB's cqlsh grammar (cqlshlib.cql3handling).

Run by tests/cql_check.rs with the Python of a venv that has `scylla-cqlsh` (ops/test.sh
makes it). Reads a JSON list of statements on stdin; prints a JSON list of
{"index": i, "error": "..."} for each statement the grammar does not accept as a whole.

cqlsh never prepares statements, so its grammar has no bind markers. Cassandra's and
ScyllaDB's Cql.g accept `?` where a value goes (`value: ... | QMARK`, which every term
reaches) and where an integer goes in USING TTL/TIMESTAMP and LIMIT (`intValue: ... |
QMARK`); the two rules below add exactly those. And cqlsh wants two or more columns in a
parenthesised partition key, where Cql.g's `pkDef` takes one or more (`PRIMARY KEY
((tenant), id)`): that rule is replaced by Cql.g's. The grammar lexes reserved keywords as
their own token, so a reserved word used as a name fails here too.
"""

import json
import sys

from cqlshlib import pylexotron
from cqlshlib.cql3handling import CqlRuleSet


def with_bind_markers(rules):
    rules.append_rules(r"<bindMarker> ::= /\?/ ;")
    for name in ("term", "wholenumber"):
        rules.ruleset[name] = pylexotron.Choice(
            [rules.ruleset[name], pylexotron.RuleReference("bindMarker")]
        )
    rules.append_rules(r'<pkDef> ::= "(" [ptkey]=<cident> ( "," [ptkey]=<cident> )* ")" ;')
    return rules


def check(rules, cql):
    try:
        tokens = rules.cql_massage_tokens(rules.lex(cql + ";"))
    except pylexotron.LexingError as e:
        return "lexing: %s" % e
    if rules.cql_whole_parse_tokens(tokens, srcstr=cql) is None:
        # Where a statement body stops matching, if some prefix of it is one.
        rests = [len(m.remainder) for m in rules.parse("statementBody", tokens)]
        if rests:
            stop = len(tokens) - min(rests)
            near = " ".join(t[1] for t in tokens[stop : stop + 3])
            return "not a statement of the grammar: it parses up to %r" % near
        return "not a statement of the grammar"
    return None


def main():
    rules = with_bind_markers(CqlRuleSet)
    statements = json.load(sys.stdin)
    failures = []
    for i, cql in enumerate(statements):
        error = check(rules, cql)
        if error is not None:
            failures.append({"index": i, "error": error})
    json.dump(failures, sys.stdout)


if __name__ == "__main__":
    main()
