//! Every CQL statement of the ScyllaDB store, checked without a server (issue 14).
//!
//! No ScyllaDB node runs where the tests run, so the migrations in `schema/` and every
//! statement the store prepares ([`catalogue`]) are checked here instead:
//! - against ScyllaDB's reserved keywords (`schema/cql_reserved_keywords.txt`);
//! - resolved against the schema the migrations create, modelled from their CREATE
//!   statements: every keyspace, table and column exists; single-partition statements give
//!   the whole partition key; lightweight transactions (`IF ...`) are exactly the
//!   statements prepared as [`Kind::Lwt`]; conditional batches stay in one partition;
//! - parsed by ScyllaDB's cqlsh grammar (`tests/cql_grammar.py`; `#[ignore]`d here because
//!   it needs Python and the `scylla-cqlsh` package, which `ops/test.sh` installs and then
//!   runs it, so there a missing grammar fails the run);
//! - and `schema/README.md`'s list of statements is the catalogue's.
//!
//! The small parser below understands the statement shapes the store uses and refuses the
//! rest: a new shape means extending it, not skipping the check.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use tollgate_store_scylla::{Kind, catalogue, catalogue_batches, migration_catalogue};

const GLOBAL: &str = "tollgate";
const REGION: &str = "tollgate_eu";
const REPLICATION: &str = "{'class': 'NetworkTopologyStrategy', 'dc1': 3}";

/// Whole-table reads, each with why its size is bounded.
const SCANS: &[(&str, &str)] = &[(
    "tenant_list",
    "the tenant directory: one small row per tenant, read by the admin listing",
)];

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn reserved() -> BTreeSet<String> {
    let text = std::fs::read_to_string(repo().join("schema/cql_reserved_keywords.txt"))
        .expect("schema/cql_reserved_keywords.txt");
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(str::to_lowercase)
        .collect()
}

// ---------------------------------------------------------------------------------------
// Tokens and a parser for the statement shapes the store uses.

#[derive(Clone, Debug, PartialEq)]
enum Tok {
    /// An unquoted identifier or keyword, lowercased.
    Word(String),
    /// A double-quoted name, as written.
    Quoted(String),
    Str,
    Num,
    Mark,
    Sym(String),
}

fn lex(cql: &str) -> Result<Vec<Tok>, String> {
    let cs: Vec<char> = cql.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < cs.len() {
        let c = cs[i];
        if c.is_whitespace() {
            i += 1;
        } else if c.is_ascii_alphabetic() {
            let s = i;
            while i < cs.len() && (cs[i].is_ascii_alphanumeric() || cs[i] == '_') {
                i += 1;
            }
            out.push(Tok::Word(
                cs[s..i].iter().collect::<String>().to_lowercase(),
            ));
        } else if c.is_ascii_digit() {
            while i < cs.len() && (cs[i].is_ascii_alphanumeric() || cs[i] == '.') {
                i += 1;
            }
            out.push(Tok::Num);
        } else if c == '\'' || c == '"' {
            let s = i + 1;
            i += 1;
            while i < cs.len() && cs[i] != c {
                i += 1;
            }
            if i == cs.len() {
                return Err("unclosed quote".into());
            }
            let text: String = cs[s..i].iter().collect();
            i += 1;
            out.push(if c == '"' {
                Tok::Quoted(text)
            } else {
                Tok::Str
            });
        } else if c == '?' {
            out.push(Tok::Mark);
            i += 1;
        } else if "<>!".contains(c) && cs.get(i + 1) == Some(&'=') {
            out.push(Tok::Sym(format!("{c}=")));
            i += 2;
        } else if "(),.=<>{}:;+-*[]".contains(c) {
            out.push(Tok::Sym(c.to_string()));
            i += 1;
        } else {
            return Err(format!("unexpected character {c:?}"));
        }
    }
    Ok(out)
}

/// A name as written: its text, lowercased unless quoted.
#[derive(Clone, Debug)]
struct Name {
    text: String,
}

struct Parser<'a> {
    toks: Vec<Tok>,
    pos: usize,
    reserved: &'a BTreeSet<String>,
    /// Problems found while parsing that do not stop it (reserved words).
    problems: Vec<String>,
}

type PResult<T> = Result<T, String>;

impl Parser<'_> {
    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.pos)
    }
    fn peek_word(&self, w: &str) -> bool {
        matches!(self.peek(), Some(Tok::Word(x)) if x == w)
    }
    fn eat_word(&mut self, w: &str) -> bool {
        let hit = self.peek_word(w);
        if hit {
            self.pos += 1;
        }
        hit
    }
    fn word(&mut self, w: &str) -> PResult<()> {
        if self.eat_word(w) {
            Ok(())
        } else {
            Err(format!(
                "expected {} at {:?}",
                w.to_uppercase(),
                self.peek()
            ))
        }
    }
    fn words(&mut self, ws: &str) -> PResult<()> {
        ws.split(' ').try_for_each(|w| self.word(w))
    }
    fn eat_sym(&mut self, s: &str) -> bool {
        let hit = matches!(self.peek(), Some(Tok::Sym(x)) if x == s);
        if hit {
            self.pos += 1;
        }
        hit
    }
    fn sym(&mut self, s: &str) -> PResult<()> {
        if self.eat_sym(s) {
            Ok(())
        } else {
            Err(format!("expected {s:?} at {:?}", self.peek()))
        }
    }
    fn end(&mut self) -> PResult<()> {
        self.eat_sym(";");
        match self.peek() {
            None => Ok(()),
            Some(t) => Err(format!("unexpected {t:?} after the statement")),
        }
    }
    /// A name: an identifier (not a reserved word) or a quoted name.
    fn name(&mut self) -> PResult<Name> {
        match self.peek().cloned() {
            Some(Tok::Word(w)) => {
                self.pos += 1;
                if self.reserved.contains(&w) {
                    self.problems.push(format!(
                        "`{w}` is a reserved word in CQL (schema/cql_reserved_keywords.txt): \
                         rename it (or quote it)"
                    ));
                }
                Ok(Name { text: w })
            }
            Some(Tok::Quoted(q)) => {
                self.pos += 1;
                Ok(Name { text: q })
            }
            t => Err(format!("expected a name at {t:?}")),
        }
    }
    /// `keyspace.table`: the store always names the keyspace.
    fn table(&mut self) -> PResult<(String, String)> {
        let ks = self.name()?;
        self.sym(".")?;
        let t = self.name()?;
        Ok((ks.text, t.text))
    }
    fn names(&mut self) -> PResult<Vec<String>> {
        let mut out = vec![self.name()?.text];
        while self.eat_sym(",") {
            out.push(self.name()?.text);
        }
        Ok(out)
    }
    /// A value: a bind marker, `null`, a literal, or a collection literal.
    fn value(&mut self) -> PResult<Value> {
        match self.peek().cloned() {
            Some(Tok::Mark) => {
                self.pos += 1;
                Ok(Value::Mark)
            }
            Some(Tok::Word(w)) if w == "null" => {
                self.pos += 1;
                Ok(Value::Null)
            }
            Some(Tok::Word(w)) if w == "true" || w == "false" => {
                self.pos += 1;
                Ok(Value::Literal)
            }
            Some(Tok::Str) | Some(Tok::Num) => {
                self.pos += 1;
                Ok(Value::Literal)
            }
            Some(Tok::Sym(s)) if s == "{" => {
                self.skip_braces()?;
                Ok(Value::Literal)
            }
            t => Err(format!("expected a value at {t:?}")),
        }
    }
    fn skip_braces(&mut self) -> PResult<()> {
        self.sym("{")?;
        let mut depth = 1;
        while depth > 0 {
            match self.peek().cloned() {
                None => return Err("unclosed {".into()),
                Some(Tok::Sym(s)) if s == "{" => depth += 1,
                Some(Tok::Sym(s)) if s == "}" => depth -= 1,
                _ => {}
            }
            self.pos += 1;
        }
        Ok(())
    }
    fn int_or_mark(&mut self) -> PResult<()> {
        match self.peek() {
            Some(Tok::Mark) | Some(Tok::Num) => {
                self.pos += 1;
                Ok(())
            }
            t => Err(format!("expected a number or ? at {t:?}")),
        }
    }
    fn using_ttl(&mut self) -> PResult<bool> {
        if self.eat_word("using") {
            self.word("ttl")?;
            self.int_or_mark()?;
            return Ok(true);
        }
        Ok(false)
    }
    fn relations(&mut self) -> PResult<Vec<Relation>> {
        let mut out = Vec::new();
        if !self.eat_word("where") {
            return Ok(out);
        }
        loop {
            let column = self.name()?.text;
            let op = match self.peek().cloned() {
                Some(Tok::Sym(s)) if ["=", "<", ">", "<=", ">="].contains(&s.as_str()) => s,
                t => return Err(format!("expected a comparison at {t:?}")),
            };
            self.pos += 1;
            match self.value()? {
                Value::Mark | Value::Literal => {}
                Value::Null => return Err(format!("`{column} {op} null` in WHERE")),
            }
            out.push(Relation { column, op });
            if !self.eat_word("and") {
                return Ok(out);
            }
        }
    }
    fn condition(&mut self) -> PResult<Condition> {
        if !self.eat_word("if") {
            return Ok(Condition::None);
        }
        if self.eat_word("exists") {
            return Ok(Condition::Exists);
        }
        let mut columns = Vec::new();
        loop {
            columns.push(self.name()?.text);
            self.sym("=")?;
            self.value()?;
            if !self.eat_word("and") {
                return Ok(Condition::Columns(columns));
            }
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Value {
    Mark,
    Null,
    Literal,
}

#[derive(Clone, Debug)]
struct Relation {
    column: String,
    op: String,
}

#[derive(Clone, Debug, PartialEq)]
enum Condition {
    None,
    /// `IF EXISTS`
    Exists,
    /// `IF NOT EXISTS`
    NotExists,
    /// `IF a = ? AND b = null ...`
    Columns(Vec<String>),
}

#[derive(Clone, Debug)]
struct Column {
    ty: String,
    is_static: bool,
}

#[derive(Clone, Debug)]
struct Table {
    columns: BTreeMap<String, Column>,
    partition: Vec<String>,
    clustering: Vec<String>,
}

impl Table {
    fn is_key(&self, c: &str) -> bool {
        self.partition
            .iter()
            .chain(&self.clustering)
            .any(|k| k == c)
    }
}

#[derive(Debug)]
enum Stmt {
    CreateKeyspace {
        ks: String,
        if_not_exists: bool,
    },
    CreateTable {
        ks: String,
        table: String,
        if_not_exists: bool,
        def: Table,
        order: Vec<String>,
    },
    Select {
        ks: String,
        table: String,
        columns: Vec<String>,
        relations: Vec<Relation>,
    },
    Insert {
        ks: String,
        table: String,
        columns: Vec<String>,
        values: usize,
        condition: Condition,
    },
    Update {
        ks: String,
        table: String,
        sets: Vec<(String, Option<String>)>,
        relations: Vec<Relation>,
        condition: Condition,
    },
    Delete {
        ks: String,
        table: String,
        relations: Vec<Relation>,
        condition: Condition,
    },
}

/// Parses one statement; reserved words used as names are returned as problems.
fn parse(cql: &str, reserved: &BTreeSet<String>) -> (PResult<Stmt>, Vec<String>) {
    let toks = match lex(cql) {
        Ok(t) => t,
        Err(e) => return (Err(e), vec![]),
    };
    let mut p = Parser {
        toks,
        pos: 0,
        reserved,
        problems: vec![],
    };
    let stmt = parse_stmt(&mut p).and_then(|s| p.end().map(|()| s));
    (stmt, p.problems)
}

fn parse_stmt(p: &mut Parser<'_>) -> PResult<Stmt> {
    if p.eat_word("create") {
        if p.eat_word("keyspace") {
            let if_not_exists = p.eat_word("if");
            if if_not_exists {
                p.words("not exists")?;
            }
            let ks = p.name()?.text;
            p.word("with")?;
            loop {
                p.name()?;
                p.sym("=")?;
                p.value()?;
                if !p.eat_word("and") {
                    break;
                }
            }
            return Ok(Stmt::CreateKeyspace { ks, if_not_exists });
        }
        p.word("table")?;
        let if_not_exists = p.eat_word("if");
        if if_not_exists {
            p.words("not exists")?;
        }
        let (ks, table) = p.table()?;
        p.sym("(")?;
        let mut def = Table {
            columns: BTreeMap::new(),
            partition: vec![],
            clustering: vec![],
        };
        loop {
            if p.eat_word("primary") {
                p.word("key")?;
                p.sym("(")?;
                if p.eat_sym("(") {
                    def.partition = p.names()?;
                    p.sym(")")?;
                    if p.eat_sym(",") {
                        def.clustering = p.names()?;
                    }
                } else {
                    let mut all = p.names()?;
                    def.clustering = all.split_off(1);
                    def.partition = all;
                }
                p.sym(")")?;
            } else {
                let name = p.name()?.text;
                let ty = column_type(p)?;
                let is_static = p.eat_word("static");
                if def
                    .columns
                    .insert(name.clone(), Column { ty, is_static })
                    .is_some()
                {
                    return Err(format!("column `{name}` declared twice"));
                }
            }
            if !p.eat_sym(",") {
                break;
            }
        }
        p.sym(")")?;
        let mut order = vec![];
        if p.eat_word("with") {
            loop {
                if p.eat_word("clustering") {
                    p.words("order by")?;
                    p.sym("(")?;
                    loop {
                        order.push(p.name()?.text);
                        if !(p.eat_word("asc") || p.eat_word("desc")) {
                            return Err("CLUSTERING ORDER without ASC or DESC".into());
                        }
                        if !p.eat_sym(",") {
                            break;
                        }
                    }
                    p.sym(")")?;
                } else {
                    let option = p.name()?.text;
                    p.sym("=")?;
                    if !TABLE_OPTIONS.contains(&option.as_str()) {
                        return Err(format!(
                            "`{option}` is not a table option of ScyllaDB 2025.1"
                        ));
                    }
                    let whole = matches!(p.peek(), Some(Tok::Num));
                    if SECONDS_OPTIONS.contains(&option.as_str()) && !whole {
                        return Err(format!("`{option}` takes a whole number of seconds"));
                    }
                    p.value()?;
                }
                if !p.eat_word("and") {
                    break;
                }
            }
        }
        return Ok(Stmt::CreateTable {
            ks,
            table,
            if_not_exists,
            def,
            order,
        });
    }
    if p.eat_word("select") {
        let columns = if p.eat_sym("*") { vec![] } else { p.names()? };
        p.word("from")?;
        let (ks, table) = p.table()?;
        let relations = p.relations()?;
        if p.eat_word("limit") {
            p.int_or_mark()?;
        }
        return Ok(Stmt::Select {
            ks,
            table,
            columns,
            relations,
        });
    }
    if p.eat_word("insert") {
        p.word("into")?;
        let (ks, table) = p.table()?;
        p.sym("(")?;
        let columns = p.names()?;
        p.sym(")")?;
        p.word("values")?;
        p.sym("(")?;
        let mut values = 0;
        loop {
            p.value()?;
            values += 1;
            if !p.eat_sym(",") {
                break;
            }
        }
        p.sym(")")?;
        let mut condition = Condition::None;
        if p.eat_word("if") {
            p.words("not exists")?;
            condition = Condition::NotExists;
        }
        p.using_ttl()?;
        return Ok(Stmt::Insert {
            ks,
            table,
            columns,
            values,
            condition,
        });
    }
    if p.eat_word("update") {
        let (ks, table) = p.table()?;
        p.using_ttl()?;
        p.word("set")?;
        let mut sets = vec![];
        loop {
            let column = p.name()?.text;
            p.sym("=")?;
            // `c = ?`, `c = null`, or `c = c + ?` (adds to a collection).
            let added_to = match p.peek().cloned() {
                Some(Tok::Word(w)) if w != "null" => {
                    let from = p.name()?.text;
                    p.sym("+")?;
                    p.value()?;
                    Some(from)
                }
                _ => {
                    p.value()?;
                    None
                }
            };
            sets.push((column, added_to));
            if !p.eat_sym(",") {
                break;
            }
        }
        let relations = p.relations()?;
        let condition = p.condition()?;
        return Ok(Stmt::Update {
            ks,
            table,
            sets,
            relations,
            condition,
        });
    }
    if p.eat_word("delete") {
        p.word("from")?;
        let (ks, table) = p.table()?;
        let relations = p.relations()?;
        let condition = p.condition()?;
        return Ok(Stmt::Delete {
            ks,
            table,
            relations,
            condition,
        });
    }
    Err(format!(
        "a statement shape this checker does not know (at {:?}): extend tests/cql_check.rs",
        p.peek()
    ))
}

/// The table options ScyllaDB 2025.1 accepts in CREATE TABLE ... WITH (its CQL reference
/// and CQL extensions: `paxos_grace_seconds`, `tombstone_gc`, `cdc`,
/// `per_partition_rate_limit`, `synchronous_updates`).
const TABLE_OPTIONS: &[&str] = &[
    "bloom_filter_fp_chance",
    "caching",
    "cdc",
    "comment",
    "compaction",
    "compression",
    "crc_check_chance",
    "default_time_to_live",
    "gc_grace_seconds",
    "max_index_interval",
    "memtable_flush_period_in_ms",
    "min_index_interval",
    "paxos_grace_seconds",
    "per_partition_rate_limit",
    "speculative_retry",
    "synchronous_updates",
    "tombstone_gc",
];

/// Table options whose value is a whole number of seconds.
const SECONDS_OPTIONS: &[&str] = &[
    "default_time_to_live",
    "gc_grace_seconds",
    "paxos_grace_seconds",
];

/// A column type: a native type or a collection of native types.
fn column_type(p: &mut Parser<'_>) -> PResult<String> {
    const NATIVE: &[&str] = &[
        "ascii",
        "bigint",
        "blob",
        "boolean",
        "counter",
        "date",
        "decimal",
        "double",
        "duration",
        "float",
        "inet",
        "int",
        "smallint",
        "text",
        "time",
        "timestamp",
        "timeuuid",
        "tinyint",
        "uuid",
        "varchar",
        "varint",
    ];
    let ty = match p.peek().cloned() {
        Some(Tok::Word(w)) => w,
        t => return Err(format!("expected a type at {t:?}")),
    };
    p.pos += 1;
    if ["set", "list", "map", "frozen"].contains(&ty.as_str()) {
        p.sym("<")?;
        let mut inner = vec![column_type(p)?];
        while p.eat_sym(",") {
            inner.push(column_type(p)?);
        }
        p.sym(">")?;
        return Ok(format!("{ty}<{}>", inner.join(", ")));
    }
    if NATIVE.contains(&ty.as_str()) {
        Ok(ty)
    } else {
        Err(format!("unknown type `{ty}`"))
    }
}

// ---------------------------------------------------------------------------------------
// The schema the migrations create, and the checks against it.

#[derive(Default)]
struct Schema {
    keyspaces: BTreeSet<String>,
    tables: BTreeMap<(String, String), Table>,
}

impl Schema {
    /// Applies the migrations in order; returns the problems found in them.
    fn build(migrations: &[(&str, String)], reserved: &BTreeSet<String>) -> (Self, Vec<String>) {
        let mut s = Schema::default();
        let mut problems = vec![];
        for (migration, cql) in migrations {
            let mut fail = |m: String| problems.push(format!("{migration}: {m}\n    {cql}"));
            let (stmt, words) = parse(cql, reserved);
            words.into_iter().for_each(&mut fail);
            match stmt {
                Err(e) => fail(e),
                Ok(Stmt::CreateKeyspace { ks, if_not_exists }) => {
                    if !if_not_exists {
                        fail("CREATE KEYSPACE without IF NOT EXISTS: a rerun would fail".into());
                    }
                    s.keyspaces.insert(ks);
                }
                Ok(Stmt::CreateTable {
                    ks,
                    table,
                    if_not_exists,
                    def,
                    order,
                }) => {
                    if !if_not_exists {
                        fail("CREATE TABLE without IF NOT EXISTS: a rerun would fail".into());
                    }
                    if !s.keyspaces.contains(&ks) {
                        fail(format!("keyspace `{ks}` is not created before `{table}`"));
                    }
                    for k in def.partition.iter().chain(&def.clustering) {
                        match def.columns.get(k) {
                            None => fail(format!("key column `{k}` is not declared")),
                            Some(c) if c.is_static => fail(format!("key column `{k}` is static")),
                            Some(_) => {}
                        }
                    }
                    if def.clustering.is_empty() && def.columns.values().any(|c| c.is_static) {
                        fail("static columns in a table without clustering columns".into());
                    }
                    if !order.is_empty()
                        && order != def.clustering[..order.len().min(def.clustering.len())]
                    {
                        fail(format!(
                            "CLUSTERING ORDER BY {order:?} is not the clustering key {:?}",
                            def.clustering
                        ));
                    }
                    let tenant_first = def.partition.first().map(String::as_str) == Some("tenant");
                    if !tenant_first && table != "schema_migrations" {
                        fail(format!(
                            "the partition key of `{table}` does not start with the tenant \
                             (DESIGN.md: isolation is enforced by the query)"
                        ));
                    }
                    if s.tables.insert((ks, table.clone()), def).is_some() {
                        fail(format!(
                            "`{table}` is created twice: IF NOT EXISTS keeps the first definition"
                        ));
                    }
                }
                Ok(other) => fail(format!("a migration may only create: {other:?}")),
            }
        }
        // Read by the migration ledger before the first migration (`table_exists`).
        let system = ("system_schema".to_owned(), "tables".to_owned());
        let text = |ty: &str| Column {
            ty: ty.to_owned(),
            is_static: false,
        };
        s.tables.insert(
            system,
            Table {
                columns: [
                    ("keyspace_name".to_owned(), text("text")),
                    ("table_name".to_owned(), text("text")),
                ]
                .into(),
                partition: vec!["keyspace_name".into()],
                clustering: vec!["table_name".into()],
            },
        );
        (s, problems)
    }
}

/// How much of a table a statement touches.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Reach {
    Row,
    Partition,
    Slice,
    Scan,
}

impl Reach {
    fn describe(self) -> &'static str {
        match self {
            Reach::Row => "one row",
            Reach::Partition => "one partition",
            Reach::Slice => "a slice of one partition",
            Reach::Scan => "the whole table",
        }
    }
}

/// What the checks learned about one catalogue statement.
#[derive(Debug)]
struct Checked {
    table: String,
    reach: Reach,
    lwt: bool,
}

/// Checks one catalogue statement against the schema.
fn check_statement(
    schema: &Schema,
    reserved: &BTreeSet<String>,
    name: &str,
    kind: Kind,
    cql: &str,
    keyspace: &str,
) -> Result<Checked, Vec<String>> {
    let (stmt, mut problems) = parse(cql, reserved);
    let stmt = match stmt {
        Ok(s) => s,
        Err(e) => {
            problems.push(e);
            return Err(problems);
        }
    };
    let (ks, table, relations) = match &stmt {
        Stmt::Select {
            ks,
            table,
            relations,
            ..
        }
        | Stmt::Update {
            ks,
            table,
            relations,
            ..
        }
        | Stmt::Delete {
            ks,
            table,
            relations,
            ..
        } => (ks, table, relations.clone()),
        // An INSERT names its row by giving every key column a value.
        Stmt::Insert {
            ks, table, columns, ..
        } => (
            ks,
            table,
            columns
                .iter()
                .filter(|c| {
                    schema
                        .tables
                        .get(&(ks.clone(), table.clone()))
                        .is_some_and(|t| t.is_key(c))
                })
                .map(|c| Relation {
                    column: c.clone(),
                    op: "=".into(),
                })
                .collect(),
        ),
        other => {
            problems.push(format!(
                "the store prepares only reads and writes: {other:?}"
            ));
            return Err(problems);
        }
    };
    if ks != keyspace && ks != "system_schema" {
        problems.push(format!(
            "runs on keyspace `{ks}`, but its set is on `{keyspace}`"
        ));
    }
    let Some(t) = schema.tables.get(&(ks.clone(), table.clone())) else {
        problems.push(format!(
            "table `{ks}.{table}` is not created by any migration"
        ));
        return Err(problems);
    };
    let column = |c: &str, problems: &mut Vec<String>| {
        if !t.columns.contains_key(c) {
            problems.push(format!("column `{c}` is not in `{table}`"));
        }
    };
    let mut used: Vec<&str> = relations.iter().map(|r| r.column.as_str()).collect();
    let condition = match &stmt {
        Stmt::Select { columns, .. } => {
            used.extend(columns.iter().map(String::as_str));
            &Condition::None
        }
        Stmt::Insert {
            columns,
            values,
            condition,
            ..
        } => {
            used.extend(columns.iter().map(String::as_str));
            if columns.len() != *values {
                problems.push(format!("{} columns but {values} values", columns.len()));
            }
            let given: BTreeSet<&str> = columns.iter().map(String::as_str).collect();
            if given.len() != columns.len() {
                problems.push("a column is given twice".into());
            }
            condition
        }
        Stmt::Update {
            sets, condition, ..
        } => {
            for (c, added_to) in sets {
                used.push(c);
                if t.is_key(c) {
                    problems.push(format!("SET of key column `{c}`"));
                }
                if let Some(from) = added_to {
                    let ty = t.columns.get(c).map(|c| c.ty.as_str()).unwrap_or("");
                    let collection = ["set<", "list<", "map<"].iter().any(|p| ty.starts_with(p));
                    if from != c || !(collection || ty == "counter") {
                        problems.push(format!("`{c} = {from} + ...` on a `{ty}` column"));
                    }
                }
            }
            condition
        }
        Stmt::Delete { condition, .. } => condition,
        _ => &Condition::None,
    };
    if let Condition::Columns(cs) = condition {
        for c in cs {
            used.push(c);
            if t.is_key(c) {
                problems.push(format!("IF on key column `{c}`"));
            }
        }
    }
    for c in used {
        column(c, &mut problems);
    }
    // Restrictions: the partition key by equality (or nothing: a scan), then a prefix of
    // the clustering key, by equality but for the last one. No filtering, no index.
    let eq = |c: &str| relations.iter().any(|r| r.column == c && r.op == "=");
    for r in &relations {
        if !t.is_key(&r.column) {
            problems.push(format!(
                "WHERE on `{}`, not a key column: it would need ALLOW FILTERING",
                r.column
            ));
        }
    }
    let whole_partition = t.partition.iter().all(|k| eq(k));
    let mut clustering_given = 0;
    for (i, c) in t.clustering.iter().enumerate() {
        let rs: Vec<&Relation> = relations.iter().filter(|r| &r.column == c).collect();
        if rs.is_empty() {
            break;
        }
        clustering_given = i + 1;
        if rs.iter().any(|r| r.op != "=") {
            break;
        }
    }
    let clustering_restricted = relations
        .iter()
        .filter(|r| t.clustering.contains(&r.column))
        .count();
    let clustering_eq = t.clustering.iter().filter(|c| eq(c)).count();
    if clustering_restricted > clustering_given
        || clustering_eq < clustering_given.saturating_sub(1)
    {
        problems.push(format!(
            "clustering restrictions are not a prefix of {:?}",
            t.clustering
        ));
    }
    let full_key = whole_partition && clustering_eq == t.clustering.len();
    let reach = if relations.is_empty() {
        Reach::Scan
    } else if !whole_partition {
        problems.push(format!(
            "the partition key {:?} is not given in full by equality",
            t.partition
        ));
        Reach::Scan
    } else if full_key {
        Reach::Row
    } else if clustering_restricted > 0 {
        Reach::Slice
    } else {
        Reach::Partition
    };
    if relations.is_empty() && !SCANS.iter().any(|(n, _)| *n == name) {
        problems.push("reads the whole table: give the partition key, or list it in SCANS with why it is bounded".into());
    }
    match &stmt {
        Stmt::Insert { columns, .. } => {
            // Only static columns may be written with just the partition key.
            let only_static = columns
                .iter()
                .filter(|c| !t.is_key(c))
                .all(|c| t.columns.get(c).is_some_and(|c| c.is_static));
            let static_row = only_static && whole_partition && clustering_restricted == 0;
            if !(full_key || static_row) {
                problems.push(format!(
                    "INSERT must give the whole primary key {:?} {:?}",
                    t.partition, t.clustering
                ));
            }
        }
        Stmt::Update { sets, .. } => {
            let only_static = sets
                .iter()
                .all(|(c, _)| t.columns.get(c).is_some_and(|c| c.is_static));
            let static_row = only_static && clustering_restricted == 0;
            if !(full_key || static_row) {
                problems.push(
                    "UPDATE must give the whole primary key (or only the partition key, \
                     setting only static columns)"
                        .into(),
                );
            }
        }
        Stmt::Delete { condition, .. } if *condition != Condition::None && !full_key => {
            problems.push("a conditional DELETE must give the whole primary key".into());
        }
        _ => {}
    }
    let lwt = *condition != Condition::None;
    let select = matches!(stmt, Stmt::Select { .. });
    match kind {
        Kind::Read | Kind::SerialRead if !select => {
            problems.push(format!("prepared as {kind:?}, but it writes"));
        }
        Kind::Write | Kind::Lwt if select => {
            problems.push(format!("prepared as {kind:?}, but it is a SELECT"));
        }
        Kind::Lwt if !lwt => problems.push(
            "prepared as Lwt, but it has no IF: it would be neither retried nor a transaction"
                .into(),
        ),
        Kind::Write if lwt => problems.push(
            "has an IF (a lightweight transaction) but is prepared as Write: it would be retried blindly"
                .into(),
        ),
        Kind::SerialRead if reach == Reach::Scan => {
            problems.push("a serial read must be of one partition".into());
        }
        _ => {}
    }
    if problems.is_empty() {
        Ok(Checked {
            table: table.clone(),
            reach,
            lwt,
        })
    } else {
        Err(problems)
    }
}

/// The keyspace a catalogue set runs on.
fn keyspace_of(set: &str) -> &'static str {
    if set == "RegionStatements" {
        REGION
    } else {
        GLOBAL
    }
}

fn migrations() -> Vec<(&'static str, String)> {
    migration_catalogue(GLOBAL, REGION, REPLICATION)
}

/// Builds the schema and checks every catalogue statement and batch; returns what was
/// learned about each statement, or every problem found.
fn check_all(
    migrations: &[(&str, String)],
    reserved: &BTreeSet<String>,
) -> Result<BTreeMap<&'static str, Checked>, Vec<String>> {
    let (schema, mut problems) = Schema::build(migrations, reserved);
    let mut checked = BTreeMap::new();
    let entries = catalogue(GLOBAL, REGION);
    for e in &entries {
        match check_statement(
            &schema,
            reserved,
            e.name,
            e.kind,
            &e.cql,
            keyspace_of(e.set),
        ) {
            Ok(c) => {
                if checked.insert(e.name, c).is_some() {
                    problems.push(format!("{}: two statements have this name", e.name));
                }
            }
            Err(ps) => {
                for p in ps {
                    problems.push(format!("{} ({:?}): {p}\n    {}", e.name, e.kind, e.cql));
                }
            }
        }
    }
    for (batch, members) in catalogue_batches() {
        let tables: BTreeSet<Option<&str>> = members
            .iter()
            .map(|m| checked.get(m).map(|c| c.table.as_str()))
            .collect();
        if tables.contains(&None) {
            problems.push(format!(
                "batch {batch}: a member is not a checked statement"
            ));
        } else if tables.len() != 1 {
            problems.push(format!(
                "batch {batch}: members on several tables {tables:?}: a conditional batch \
                 must stay in one partition"
            ));
        }
    }
    if problems.is_empty() {
        Ok(checked)
    } else {
        Err(problems)
    }
}

#[test]
fn every_statement_resolves_against_the_migrated_schema() {
    if let Err(problems) = check_all(&migrations(), &reserved()) {
        panic!(
            "{} problem(s) in the CQL of the ScyllaDB store:\n{}",
            problems.len(),
            problems.join("\n")
        );
    }
}

/// Plain writes to tables that lightweight transactions also write, and why each is safe.
/// With clock skew between coordinators, a plain write can lose to, or hide behind a
/// tombstone, a conditional one on the same row (issue 14, finding 5): every other write
/// of such a table must be conditional.
const PLAIN_WRITES_ALLOWED: &[(&str, &str)] = &[
    (
        "code_put",
        "creates the row; the only conditional write sets another column (taken_by)",
    ),
    (
        "chain_token_put",
        "inside the conditional creation batch, and in a move's copy",
    ),
    (
        "chain_put",
        "a tenant move's copy, into a keyspace nothing writes until the fence lifts",
    ),
    (
        "chain_delete",
        "a tenant move's purge of the keyspace it left",
    ),
    (
        "session_put",
        "creates a session under a fresh random key; every later change of it is conditional",
    ),
    ("client_put", "a tenant move's copy"),
    (
        "grievance_put",
        "creates a ticket under a fresh random id (and a move's copy); every later change of it is conditional",
    ),
    ("grievances_delete_all", "a tenant move's purge"),
    (
        "child_put",
        "creates the record of a new account (a fresh user id); every later change of it is conditional",
    ),
    ("clients_delete", "a tenant move's purge"),
    ("lookup_put", "a tenant move's copy"),
    ("lookup_delete", "a tenant move's purge"),
    ("factor_put", "a tenant move's copy"),
    ("factors_delete", "a tenant move's purge"),
    ("link_put", "a tenant move's copy"),
    ("link_delete", "a tenant move's purge"),
    ("email_put", "a tenant move's copy"),
    ("user_key_put", "a tenant move's copy"),
    ("user_key_delete", "a tenant move's purge"),
    ("user_put", "a tenant move's copy"),
    ("users_delete", "a tenant move's purge"),
    ("org_put", "a tenant move's copy"),
    ("org_name_put", "a tenant move's copy"),
    ("member_put", "a tenant move's copy"),
    ("orgs_delete", "a tenant move's purge"),
    ("org_names_delete", "a tenant move's purge"),
    ("members_delete", "a tenant move's purge"),
    ("invitations_delete", "a tenant move's purge"),
    (
        "invitation_put",
        "creates an invitation under the hash of a fresh random token; only taken or withdrawn after",
    ),
];

/// Conditional batches, and why each meets no contention: the driver does not route a
/// batch as an LWT (to the partition's replicas in order), so contended conditional writes
/// in a batch fight in Paxos on shuffled replicas (issue 14, finding 6).
const CONDITIONAL_BATCHES_ALLOWED: &[(&str, &str)] = &[(
    "chain_create",
    "a new chain's id is random: nobody else writes its partition",
)];

#[test]
fn contended_conditional_writes_are_single_statements() {
    let checked = check_all(&migrations(), &reserved()).unwrap_or_else(|p| panic!("{p:?}"));
    let mut problems = Vec::new();
    for (batch, members) in catalogue_batches() {
        let conditional = members
            .iter()
            .any(|m| checked.get(m).is_some_and(|c| c.lwt));
        if conditional && !CONDITIONAL_BATCHES_ALLOWED.iter().any(|(b, _)| *b == batch) {
            problems.push(format!(
                "batch {batch} is conditional: make it one conditional statement (routed as an \
                 LWT), or list it in CONDITIONAL_BATCHES_ALLOWED with why nothing contends"
            ));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn no_plain_write_hides_a_conditional_one() {
    let checked = check_all(&migrations(), &reserved()).unwrap_or_else(|p| panic!("{p:?}"));
    let entries = catalogue(GLOBAL, REGION);
    let kind = |name: &str| entries.iter().find(|e| e.name == name).map(|e| e.kind);
    let conditional: BTreeSet<&str> = checked
        .iter()
        .filter(|(name, c)| c.lwt && kind(name) == Some(Kind::Lwt))
        .map(|(_, c)| c.table.as_str())
        .collect();
    let mut problems = Vec::new();
    for (name, c) in &checked {
        let plain_write = kind(name) == Some(Kind::Write);
        if plain_write
            && conditional.contains(c.table.as_str())
            && !PLAIN_WRITES_ALLOWED.iter().any(|(n, _)| n == name)
        {
            problems.push(format!(
                "{name}: a plain write to `{}`, which lightweight transactions also write: \
                 make it conditional, or list it in PLAIN_WRITES_ALLOWED with the reason",
                c.table
            ));
        }
    }
    for (name, _) in PLAIN_WRITES_ALLOWED {
        if kind(name) != Some(Kind::Write) {
            problems.push(format!("{name}: listed as allowed, but not a plain write"));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn the_checks_reject_what_a_server_would() {
    let reserved = reserved();
    let mut bad = migrations();
    // 0001 as it was before issue 14: `keyspace` is reserved.
    bad.push((
        "0001_global",
        format!(
            "CREATE TABLE IF NOT EXISTS {GLOBAL}.ledger (keyspace text, version int, \
             PRIMARY KEY (keyspace, version))"
        ),
    ));
    let problems = check_all(&bad, &reserved).expect_err("a reserved column name must fail");
    assert!(
        problems
            .iter()
            .any(|p| p.contains("`keyspace` is a reserved word")),
        "{problems:?}"
    );
    // Table options: a misspelt one, and a grace period given as a string.
    for (with, want) in [
        ("gc_grace = 3600", "not a table option"),
        ("gc_grace_seconds = '3600'", "whole number of seconds"),
    ] {
        let mut bad = migrations();
        bad.push((
            "0002_region",
            format!(
                "CREATE TABLE IF NOT EXISTS {REGION}.extra (tenant text, PRIMARY KEY ((tenant))) \
                 WITH {with}"
            ),
        ));
        let problems = check_all(&bad, &reserved).expect_err(with);
        assert!(problems.iter().any(|p| p.contains(want)), "{problems:?}");
    }
    let (schema, ps) = Schema::build(&migrations(), &reserved);
    assert!(ps.is_empty(), "{ps:?}");
    let cases = [
        (
            Kind::Read,
            "SELECT record FROM {R}.users WHERE tenant = ? AND user_id = ?",
            "partition key",
        ),
        (
            Kind::Read,
            "SELECT nope FROM {R}.users WHERE tenant = ? AND bucket = ?",
            "column `nope`",
        ),
        (
            Kind::Read,
            "SELECT record FROM {R}.nope WHERE tenant = ?",
            "not created",
        ),
        (
            Kind::Write,
            "UPDATE {R}.codes SET taken_by = ? WHERE tenant = ? AND key = ? IF taken_by = null",
            "prepared as Write",
        ),
        (
            Kind::Lwt,
            "UPDATE {R}.codes SET taken_by = ? WHERE tenant = ? AND key = ?",
            "no IF",
        ),
        (
            Kind::Read,
            "SELECT record FROM {R}.codes WHERE tenant = ? AND record = ?",
            "ALLOW FILTERING",
        ),
        (
            Kind::Write,
            "INSERT INTO {R}.codes (tenant, record) VALUES (?, ?)",
            "whole primary key",
        ),
        (
            Kind::Write,
            "INSERT INTO {R}.codes (tenant, key, record) VALUES (?, ?)",
            "3 columns but 2 values",
        ),
        (
            Kind::Read,
            "SELECT record FROM {G}.tenants WHERE tenant = ?",
            "its set is on",
        ),
        (
            Kind::Write,
            "DELETE FROM {R}.events WHERE tenant = ? AND day = ? AND id = ?",
            "prefix",
        ),
    ];
    for (kind, cql, expect) in cases {
        let cql = cql.replace("{R}", REGION).replace("{G}", GLOBAL);
        let problems = check_statement(&schema, &reserved, "case", kind, &cql, REGION)
            .err()
            .unwrap_or_else(|| panic!("accepted: {cql}"));
        assert!(
            problems.iter().any(|p| p.contains(expect)),
            "{cql}: expected a problem with {expect:?}, got {problems:?}"
        );
    }
}

#[test]
fn the_reserved_word_list_is_scyllas() {
    let reserved = reserved();
    for w in [
        "keyspace", "table", "token", "limit", "select", "where", "unset",
    ] {
        assert!(reserved.contains(w), "{w}");
    }
    // Unreserved keywords the schema uses as names on purpose.
    for w in ["key", "ttl", "type", "values", "static"] {
        assert!(!reserved.contains(w), "{w}");
    }
}

// ---------------------------------------------------------------------------------------
// ScyllaDB's grammar.

fn grammar_python() -> PathBuf {
    std::env::var_os("TOLLGATE_CQL_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo().join("target/cql-grammar/bin/python"))
}

/// Parses statements with ScyllaDB's cqlsh grammar: `(index, error)` for each rejected.
fn grammar_failures(statements: &[String]) -> Vec<(usize, String)> {
    let python = grammar_python();
    assert!(
        python.exists(),
        "no Python with ScyllaDB's cqlsh grammar at {} (set TOLLGATE_CQL_PYTHON): \
         ops/test.sh installs it (a venv with the scylla-cqlsh package)",
        python.display()
    );
    let mut child = Command::new(&python)
        .arg(repo().join("engine/store-scylla/tests/cql_grammar.py"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start the grammar check");
    let input = serde_json::to_vec(statements).unwrap();
    child.stdin.take().unwrap().write_all(&input).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "the grammar check failed to run: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let failures: Vec<serde_json::Value> = serde_json::from_slice(&out.stdout).unwrap();
    failures
        .iter()
        .map(|f| {
            (
                f["index"].as_u64().unwrap() as usize,
                f["error"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

#[test]
#[ignore = "needs the CQL grammar: ops/test.sh installs it"]
fn every_statement_parses_with_scyllas_grammar() {
    let mut named: Vec<(String, String)> = migrations()
        .into_iter()
        .map(|(m, s)| (m.to_owned(), s))
        .collect();
    named.extend(
        catalogue(GLOBAL, REGION)
            .into_iter()
            .map(|e| (e.name.to_owned(), e.cql)),
    );
    // The grammar must be able to say no: what a server rejects, it rejects.
    let known_bad = [
        format!("CREATE TABLE {GLOBAL}.t (keyspace text PRIMARY KEY)"),
        format!("INSERT INTO {REGION}.codes (tenant, key) VALUES (?, ?) USING TTL ? IF NOT EXISTS"),
        format!("SELECT record FROM {REGION}.codes WHERE tenant = ? LIMT 1"),
    ];
    let statements: Vec<String> = named
        .iter()
        .map(|(_, s)| s.clone())
        .chain(known_bad.iter().cloned())
        .collect();
    let failures = grammar_failures(&statements);
    let rejected_bad: BTreeSet<usize> = failures
        .iter()
        .map(|(i, _)| *i)
        .filter(|i| *i >= named.len())
        .collect();
    assert_eq!(
        rejected_bad.len(),
        known_bad.len(),
        "the grammar accepted a statement a server rejects: {failures:?}"
    );
    let real: Vec<String> = failures
        .iter()
        .filter(|(i, _)| *i < named.len())
        .map(|(i, e)| format!("{}: {e}\n    {}", named[*i].0, named[*i].1))
        .collect();
    assert!(
        real.is_empty(),
        "{} statement(s) rejected by ScyllaDB's cqlsh grammar:\n{}",
        real.len(),
        real.join("\n")
    );
}

// ---------------------------------------------------------------------------------------
// schema/README.md: the partition bound of every table, and every statement.

const PARTITIONS_BEGIN: &str =
    "<!-- partitions: one row per table; checked by engine/store-scylla/tests/cql_check.rs -->";
const PARTITIONS_END: &str = "<!-- partitions end -->";
const STATEMENTS_BEGIN: &str = "<!-- statements: generated from the catalogue by engine/store-scylla/tests/cql_check.rs; `TOLLGATE_BLESS=1 cargo test -p tollgate-store-scylla --test cql_check` rewrites it -->";
const STATEMENTS_END: &str = "<!-- statements end -->";

fn between<'a>(text: &'a str, begin: &str, end: &str) -> &'a str {
    let b = text
        .find(begin)
        .unwrap_or_else(|| panic!("schema/README.md has no {begin}"));
    let rest = &text[b + begin.len()..];
    let e = rest
        .find(end)
        .unwrap_or_else(|| panic!("schema/README.md has no {end}"));
    &rest[..e]
}

/// The hand-written partition table: table -> its bound.
fn partition_bounds(readme: &str) -> BTreeMap<String, String> {
    between(readme, PARTITIONS_BEGIN, PARTITIONS_END)
        .lines()
        .filter(|l| l.starts_with("| `"))
        .map(|l| {
            let cells: Vec<&str> = l.split(" | ").collect();
            let table = cells[0].trim_start_matches("| `").trim_end_matches('`');
            let bound = cells
                .last()
                .unwrap()
                .trim_end_matches(" |")
                .trim_end_matches('|');
            (table.to_owned(), bound.trim().to_owned())
        })
        .collect()
}

fn kind_text(kind: Kind) -> &'static str {
    match kind {
        Kind::Read => "Read: `consistency`, idempotent",
        Kind::Write => "Write: `consistency`, idempotent",
        Kind::Lwt => "Lwt: `serial_consistency` (SERIAL on the global keyspace), not retried",
        Kind::SerialRead => "SerialRead: `serial_consistency` as a read",
    }
}

fn statement_list(
    checked: &BTreeMap<&'static str, Checked>,
    bounds: &BTreeMap<String, String>,
) -> String {
    let mut out = String::from(
        "\n| statement | table | reach | partition bound | prepared as | CQL |\n|---|---|---|---|---|---|\n",
    );
    for e in catalogue(GLOBAL, REGION) {
        let c = &checked[e.name];
        let bound = match SCANS.iter().find(|(n, _)| *n == e.name) {
            Some((_, why)) => why,
            None => bounds.get(&c.table).map(String::as_str).unwrap_or("?"),
        };
        let cql = e
            .cql
            .replace(&format!("{REGION}."), "{ks}.")
            .replace(&format!("{GLOBAL}."), "{g}.");
        let cql = cql.split_whitespace().collect::<Vec<_>>().join(" ");
        let reach = if c.lwt {
            format!("{} (LWT)", c.reach.describe())
        } else {
            c.reach.describe().to_owned()
        };
        out.push_str(&format!(
            "| `{}` | `{}` | {reach} | {bound} | {} | `{cql}` |\n",
            e.name,
            c.table,
            kind_text(e.kind)
        ));
    }
    for (batch, members) in catalogue_batches() {
        out.push_str(&format!(
            "\nBatch `{batch}`: {} on one partition.\n",
            members
                .iter()
                .map(|m| format!("`{m}`"))
                .collect::<Vec<_>>()
                .join(" + ")
        ));
    }
    out
}

#[test]
fn the_readme_lists_every_table_and_statement() {
    let path = repo().join("schema/README.md");
    let readme = std::fs::read_to_string(&path).unwrap();
    let migrations = migrations();
    let reserved = reserved();
    let checked = check_all(&migrations, &reserved)
        .unwrap_or_else(|ps| panic!("the statements do not check: {}", ps.join("\n")));
    let (schema, _) = Schema::build(&migrations, &reserved);
    let bounds = partition_bounds(&readme);
    let tables: BTreeSet<String> = schema
        .tables
        .keys()
        .filter(|(ks, _)| ks != "system_schema")
        .map(|(_, t)| t.clone())
        .collect();
    let listed: BTreeSet<String> = bounds.keys().cloned().collect();
    let missing: Vec<_> = tables.difference(&listed).collect();
    let stale: Vec<_> = listed.difference(&tables).collect();
    assert!(
        missing.is_empty() && stale.is_empty(),
        "schema/README.md's partition table must have one row per table: add {missing:?}, \
         remove {stale:?}"
    );
    let want = statement_list(&checked, &bounds);
    let have = between(&readme, STATEMENTS_BEGIN, STATEMENTS_END);
    if have != want {
        if std::env::var_os("TOLLGATE_BLESS").is_some() {
            let updated = readme.replacen(
                &format!("{STATEMENTS_BEGIN}{have}{STATEMENTS_END}"),
                &format!("{STATEMENTS_BEGIN}{want}{STATEMENTS_END}"),
                1,
            );
            std::fs::write(&path, updated).unwrap();
        } else {
            panic!(
                "schema/README.md's statement list is not the catalogue's: run \
                 `TOLLGATE_BLESS=1 cargo test -p tollgate-store-scylla --test cql_check` \
                 and commit the result"
            );
        }
    }
}
