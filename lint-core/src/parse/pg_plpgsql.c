/*
 * The SQL statements of a PL/pgSQL body, read straight from the compiled function.
 *
 * libpg_query's pg_query_parse_plpgsql compiles a `DO` block or `CREATE FUNCTION` body and prints
 * the whole compiled function as JSON, variables included; Sluice then only wants the statements
 * it runs: static SQL and `EXECUTE` commands. This file compiles the body the same way (the
 * compiling code is libpg_query's own, included below) and walks the compiled statements in the
 * order the JSON lists them, writing one record per statement:
 *
 *   u8 flags | u32 line number | u32 length | the query text
 *
 * (integers little-endian). Flag bit 0 marks an EXECUTE; bit 1 a guarded statement, one that runs
 * only under a condition (in a branch of IF or CASE) or whose "already exists" / "does not exist"
 * errors are caught (in a block with an EXCEPTION handler for them that raises no error), as
 * the existence checks of re-runnable bodies are written. The line number
 * counts from the start of the body, as PL/pgSQL's does.
 */
#define pg_query_parse_plpgsql sluice_unused_pg_query_parse_plpgsql
#define pg_query_free_plpgsql_parse_result sluice_unused_pg_query_free_plpgsql_parse_result
#include "pg_query_parse_plpgsql.c"
#undef pg_query_parse_plpgsql
#undef pg_query_free_plpgsql_parse_result

/* Statement lists nest no deeper than the PL/pgSQL grammar lets them; this only bounds the walk. */
#define SLUICE_MAX_DEPTH 10000

typedef struct
{
	/* malloc-ed records, handed to the caller */
	char	   *data;
	size_t		len;
	size_t		cap;
	/* set when memory ran out */
	bool		failed;
} SluiceOut;

typedef struct
{
	char	   *data;
	size_t		len;
	/* NULL, or a malloc-ed message */
	char	   *error;
	/* false when the text holds no PL/pgSQL body */
	bool		found;
} SluicePlpgsqlResult;

static void
sluice_put(SluiceOut *out, const void *bytes, size_t n)
{
	if (out->failed)
		return;
	if (out->len + n > out->cap)
	{
		size_t		cap = out->cap ? out->cap : 256;
		char	   *data;

		while (cap < out->len + n)
			cap *= 2;
		data = realloc(out->data, cap);
		if (data == NULL)
		{
			out->failed = true;
			return;
		}
		out->data = data;
		out->cap = cap;
	}
	memcpy(out->data + out->len, bytes, n);
	out->len += n;
}

static void
sluice_put_u32(SluiceOut *out, uint32 v)
{
	unsigned char b[4] = {v & 0xff, (v >> 8) & 0xff, (v >> 16) & 0xff, (v >> 24) & 0xff};

	sluice_put(out, b, 4);
}

static void
sluice_record(SluiceOut *out, bool dynamic, bool guarded, int lineno, PLpgSQL_expr *expr)
{
	unsigned char flag = (dynamic ? 1 : 0) | (guarded ? 2 : 0);
	size_t		n;

	if (expr == NULL || expr->query == NULL)
		return;
	n = strlen(expr->query);
	if (n > 0xffffffffu)
		return;
	sluice_put(out, &flag, 1);
	sluice_put_u32(out, lineno < 0 ? 0 : (uint32) lineno);
	sluice_put_u32(out, (uint32) n);
	sluice_put(out, expr->query, n);
}

static void sluice_stmts(List *stmts, SluiceOut *out, int depth, bool guarded);

/* The errors a second CREATE or DROP of the same object raises. */
static bool
sluice_rerun_error(int sqlerrstate)
{
	switch (sqlerrstate)
	{
		case PLPGSQL_OTHERS:
		case ERRCODE_DUPLICATE_TABLE:
		case ERRCODE_DUPLICATE_OBJECT:
		case ERRCODE_DUPLICATE_COLUMN:
		case ERRCODE_DUPLICATE_SCHEMA:
		case ERRCODE_DUPLICATE_FUNCTION:
		case ERRCODE_DUPLICATE_DATABASE:
		case ERRCODE_UNIQUE_VIOLATION:
		case ERRCODE_UNDEFINED_TABLE:
		case ERRCODE_UNDEFINED_OBJECT:
		case ERRCODE_UNDEFINED_COLUMN:
		case ERRCODE_UNDEFINED_FUNCTION:
		case ERRCODE_INVALID_SCHEMA_NAME:
			return true;
		default:
			return false;
	}
}

/*
 * Whether a block's EXCEPTION clause lets a re-run go on: one of its handlers catches what a
 * second CREATE or DROP raises (OTHERS, duplicate_table, undefined_object, ...) and raises no
 * error again (no RAISE of level ERROR among its statements).
 */
static bool
sluice_handler_swallows(PLpgSQL_exception_block *exceptions)
{
	ListCell   *lc;
	ListCell   *sc;

	foreach(lc, exceptions->exc_list)
	{
		PLpgSQL_exception *e = (PLpgSQL_exception *) lfirst(lc);
		PLpgSQL_condition *c;
		bool		catches = false;
		bool		raises = false;

		for (c = e->conditions; c != NULL; c = c->next)
			if (sluice_rerun_error(c->sqlerrstate))
				catches = true;
		foreach(sc, e->action)
		{
			PLpgSQL_stmt *st = (PLpgSQL_stmt *) lfirst(sc);

			if (st->cmd_type == PLPGSQL_STMT_RAISE && ((PLpgSQL_stmt_raise *) st)->elog_level >= ERROR)
				raises = true;
		}
		if (catches && !raises)
			return true;
	}
	return false;
}

static void
sluice_stmt(PLpgSQL_stmt *node, SluiceOut *out, int depth, bool guarded)
{
	ListCell   *lc;

	if (node == NULL || depth > SLUICE_MAX_DEPTH)
		return;
	switch (node->cmd_type)
	{
		case PLPGSQL_STMT_BLOCK:
			{
				PLpgSQL_stmt_block *b = (PLpgSQL_stmt_block *) node;

				sluice_stmts(b->body, out, depth + 1,
							 guarded || (b->exceptions != NULL && sluice_handler_swallows(b->exceptions)));
				if (b->exceptions != NULL)
					foreach(lc, b->exceptions->exc_list)
						sluice_stmts(((PLpgSQL_exception *) lfirst(lc))->action, out, depth + 1, guarded);
				break;
			}
		case PLPGSQL_STMT_IF:
			{
				PLpgSQL_stmt_if *s = (PLpgSQL_stmt_if *) node;

				sluice_stmts(s->then_body, out, depth + 1, true);
				foreach(lc, s->elsif_list)
					sluice_stmts(((PLpgSQL_if_elsif *) lfirst(lc))->stmts, out, depth + 1, true);
				sluice_stmts(s->else_body, out, depth + 1, true);
				break;
			}
		case PLPGSQL_STMT_CASE:
			{
				PLpgSQL_stmt_case *s = (PLpgSQL_stmt_case *) node;

				foreach(lc, s->case_when_list)
					sluice_stmts(((PLpgSQL_case_when *) lfirst(lc))->stmts, out, depth + 1, true);
				sluice_stmts(s->else_stmts, out, depth + 1, true);
				break;
			}
		case PLPGSQL_STMT_LOOP:
			sluice_stmts(((PLpgSQL_stmt_loop *) node)->body, out, depth + 1, guarded);
			break;
		case PLPGSQL_STMT_WHILE:
			sluice_stmts(((PLpgSQL_stmt_while *) node)->body, out, depth + 1, guarded);
			break;
		case PLPGSQL_STMT_FORI:
			sluice_stmts(((PLpgSQL_stmt_fori *) node)->body, out, depth + 1, guarded);
			break;
		case PLPGSQL_STMT_FORS:
		case PLPGSQL_STMT_FORC:
		case PLPGSQL_STMT_DYNFORS:
			/* PL/pgSQL's common layout of the three loops over a query */
			sluice_stmts(((PLpgSQL_stmt_forq *) node)->body, out, depth + 1, guarded);
			break;
		case PLPGSQL_STMT_FOREACH_A:
			sluice_stmts(((PLpgSQL_stmt_foreach_a *) node)->body, out, depth + 1, guarded);
			break;
		case PLPGSQL_STMT_EXECSQL:
			sluice_record(out, false, guarded, node->lineno, ((PLpgSQL_stmt_execsql *) node)->sqlstmt);
			break;
		case PLPGSQL_STMT_DYNEXECUTE:
			sluice_record(out, true, guarded, node->lineno, ((PLpgSQL_stmt_dynexecute *) node)->query);
			break;
		default:
			break;
	}
}

static void
sluice_stmts(List *stmts, SluiceOut *out, int depth, bool guarded)
{
	ListCell   *lc;

	foreach(lc, stmts)
		sluice_stmt((PLpgSQL_stmt *) lfirst(lc), out, depth, guarded);
}

static char *
sluice_error_message(PgQueryError *error)
{
	char	   *message = strdup(error->message ? error->message : "PL/pgSQL body could not be compiled");

	/*
	 * An error made from what the compiler printed to stderr has string constants for its file,
	 * function and context (an elog's file name is never empty): only its message is allocated.
	 */
	if (error->filename != NULL && error->filename[0] == '\0')
	{
		free(error->message);
		free(error);
	}
	else
		pg_query_free_error(error);
	return message;
}

/*
 * Compiles the PL/pgSQL body of the first `DO` or `CREATE FUNCTION` statement of `input` and
 * returns its statements. Release the result with sluice_plpgsql_release.
 */
SluicePlpgsqlResult
sluice_plpgsql_statements(const char *input)
{
	SluicePlpgsqlResult result = {0};
	SluiceOut	out = {0};
	MemoryContext ctx;
	PgQueryInternalParsetreeAndError parse_result;
	plStmts		statements;

	ctx = pg_query_enter_memory_context();
	parse_result = pg_query_raw_parse(input, PG_QUERY_PARSE_DEFAULT);
	if (parse_result.error != NULL)
	{
		result.error = sluice_error_message(parse_result.error);
		free(parse_result.stderr_buffer);
		pg_query_exit_memory_context(ctx);
		return result;
	}

	statements.stmts_buf_size = 4;
	statements.stmts = (Node **) palloc(statements.stmts_buf_size * sizeof(Node *));
	statements.stmts_count = 0;
	stmts_walker((Node *) parse_result.tree, &statements);

	if (statements.stmts_count > 0)
	{
		PgQueryInternalPlpgsqlFuncAndError compiled = pg_query_raw_parse_plpgsql(statements.stmts[0]);

		if (compiled.error != NULL)
			result.error = sluice_error_message(compiled.error);
		else if (compiled.func != NULL)
		{
			/* A body in another language compiles to a function without a block. */
			result.found = compiled.func->action != NULL;
			if (result.found)
				sluice_stmt((PLpgSQL_stmt *) compiled.func->action, &out, 0, false);
			plpgsql_free_function_memory(compiled.func);
			if (out.failed)
				result.error = strdup("out of memory while reading the PL/pgSQL body");
		}
	}

	free(parse_result.stderr_buffer);
	pg_query_exit_memory_context(ctx);
	if (result.error != NULL)
	{
		free(out.data);
		result.found = false;
		return result;
	}
	result.data = out.data;
	result.len = out.len;
	return result;
}

void
sluice_plpgsql_release(SluicePlpgsqlResult result)
{
	free(result.data);
	free(result.error);
}
