/*
 * PostgreSQL parse trees written straight to protobuf bytes.
 *
 * libpg_query's own path (pg_query_parse_protobuf) first builds the tree again as upb messages,
 * then has upb's generic encoder serialise them. That encoder checks every field of a message's
 * table for each message it writes, and a `Node` has about 270 one-of fields, so serialising took
 * more time than parsing. This file walks the same tree with libpg_query's generated field list
 * (pg_query_outfuncs_defs.c, included below with our own WRITE_* macros) and writes each field
 * as it goes: same fields, same values, same message for `pg_query::protobuf::ParseResult` to
 * decode. Field numbers come from pg_query.proto (sluice_pg_fields.h, written by build.rs).
 *
 * Nested messages are written in place: one byte is reserved for the length, and the body is
 * moved when its length needs more than one byte.
 */
#include "pg_query.h"
#include "pg_query_internal.h"

#include "postgres.h"
#include <ctype.h>
#include "access/relation.h"
#include "nodes/parsenodes.h"
#include "nodes/plannodes.h"
#include "nodes/value.h"
#include "utils/datum.h"
#include "miscadmin.h"

#include "sluice_pg_fields.h"

/* The Node one-of field for Float is `float`; the generated call sites name it `float_`. */
#define SLUICE_FN_Node_float_ SLUICE_FN_Node_float

#define FIELD(msgtype, name) SLUICE_FN_##msgtype##_##name

/* Wire types. */
#define WT_VARINT 0
#define WT_FIXED64 1
#define WT_LEN 2

/* Keep the thread's buffer between parses unless a statement made it larger than this. */
#define KEEP_CAPACITY (1 << 20)

typedef struct
{
	char	   *data;
	size_t		len;
	size_t		cap;
	int			depth;
	/* Write only what lowering reads of DML, views and CREATE TABLE AS (see write_shallow). */
	bool		shallow;
} Writer;

static __thread Writer w;

static void
w_grow(size_t need)
{
	size_t		cap = w.cap ? w.cap : 4096;
	char	   *data;

	while (cap < w.len + need)
		cap *= 2;
	data = realloc(w.data, cap);
	if (data == NULL)
		elog(ERROR, "out of memory while serialising the parse tree");
	w.data = data;
	w.cap = cap;
}

static inline void
w_reserve(size_t n)
{
	if (w.len + n > w.cap)
		w_grow(n);
}

static inline void
w_varint(uint64_t v)
{
	w_reserve(10);
	while (v >= 0x80)
	{
		w.data[w.len++] = (char) (v | 0x80);
		v >>= 7;
	}
	w.data[w.len++] = (char) v;
}

static inline void
w_tag(uint32_t field, int wire_type)
{
	w_varint(((uint64_t) field << 3) | (uint64_t) wire_type);
}

static inline void
w_bytes(uint32_t field, const char *s, size_t n)
{
	w_tag(field, WT_LEN);
	w_varint(n);
	w_reserve(n);
	memcpy(w.data + w.len, s, n);
	w.len += n;
}

static inline void
w_string(uint32_t field, const char *s)
{
	if (s != NULL && s[0] != '\0')
		w_bytes(field, s, strlen(s));
}

static inline void
w_uint(uint32_t field, uint64_t v)
{
	if (v != 0)
	{
		w_tag(field, WT_VARINT);
		w_varint(v);
	}
}

/* int32 and int64 values are sign-extended to ten bytes when negative, as protobuf requires. */
static inline void
w_int(uint32_t field, int64_t v)
{
	w_uint(field, (uint64_t) v);
}

static inline void
w_double(uint32_t field, double v)
{
	uint64_t	bits;

	memcpy(&bits, &v, sizeof bits);
	if (bits != 0)
	{
		int			i;

		w_tag(field, WT_FIXED64);
		w_reserve(8);
		for (i = 0; i < 8; i++)
			w.data[w.len++] = (char) (bits >> (8 * i));
	}
}

/* Starts a nested message; returns where its body starts. */
static inline size_t
w_begin(uint32_t field)
{
	if (++w.depth > PG_QUERY_PROTOBUF_MAX_DEPTH)
		elog(ERROR, "parse tree is nested too deeply to serialize to protobuf");
	w_tag(field, WT_LEN);
	w_reserve(1);
	w.len++;
	return w.len;
}

/* Ends the nested message begun at `start`: writes its length in front of it. */
static inline void
w_end(size_t start)
{
	size_t		n = w.len - start;

	w.depth--;
	if (n < 0x80)
		w.data[start - 1] = (char) n;
	else
	{
		size_t		extra = 0;
		size_t		v;
		char	   *p;

		for (v = n >> 7; v != 0; v >>= 7)
			extra++;
		w_reserve(extra);
		memmove(w.data + start + extra, w.data + start, n);
		w.len += extra;
		p = w.data + start - 1;
		v = n;
		while (v >= 0x80)
		{
			*p++ = (char) (v | 0x80);
			v >>= 7;
		}
		*p = (char) v;
	}
}

/* The generated _out functions take the upb message they fill; here the writer is implicit. */
#define OUT_TYPE(typename, typename_c) void *

#define OUT_NODE(typename, typename_c, typename_underscore, typename_underscore_upcase, typename_cast, fldname) \
	{ \
		size_t __s = w_begin(FIELD(Node, fldname)); \
		_out##typename_c(NULL, (const typename_cast *) obj); \
		w_end(__s); \
	}

#define WRITE_INT_FIELD(msgtype, outname, outname_json, fldname)    w_int(FIELD(msgtype, outname), (int64_t) node->fldname);
#define WRITE_UINT_FIELD(msgtype, outname, outname_json, fldname)   w_uint(FIELD(msgtype, outname), (uint64_t) node->fldname);
#define WRITE_UINT64_FIELD(msgtype, outname, outname_json, fldname) w_uint(FIELD(msgtype, outname), (uint64_t) node->fldname);
#define WRITE_LONG_FIELD(msgtype, outname, outname_json, fldname)   w_int(FIELD(msgtype, outname), (int64_t) node->fldname);
#define WRITE_FLOAT_FIELD(msgtype, outname, outname_json, fldname)  w_double(FIELD(msgtype, outname), (double) node->fldname);
#define WRITE_BOOL_FIELD(msgtype, outname, outname_json, fldname)   w_uint(FIELD(msgtype, outname), node->fldname ? 1 : 0);

#define WRITE_CHAR_FIELD(msgtype, outname, outname_json, fldname) \
	if (node->fldname != 0) { \
		char __c = node->fldname; \
		w_bytes(FIELD(msgtype, outname), &__c, 1); \
	}

#define WRITE_STRING_FIELD(msgtype, outname, outname_json, fldname) \
	w_string(FIELD(msgtype, outname), node->fldname);

#define WRITE_ENUM_FIELD(msgtype, enumtype, outname, outname_json, fldname) \
	w_int(FIELD(msgtype, outname), (int64_t) _enumToInt##enumtype(node->fldname));

#define WRITE_LIST_FIELD(msgtype, outname, outname_json, fldname) \
	if (node->fldname != NULL) { \
		const ListCell *__lc; \
		foreach(__lc, node->fldname) { \
			size_t __s = w_begin(FIELD(msgtype, outname)); \
			_outNode(NULL, lfirst(__lc)); \
			w_end(__s); \
		} \
	}

/* Repeated uint64, written unpacked (decoders accept both forms). */
#define WRITE_BITMAPSET_FIELD(msgtype, outname, outname_json, fldname) \
	if (!bms_is_empty(node->fldname)) { \
		int __x = -1; \
		while ((__x = bms_next_member(node->fldname, __x)) >= 0) { \
			w_tag(FIELD(msgtype, outname), WT_VARINT); \
			w_varint((uint64_t) __x); \
		} \
	}

#define WRITE_NODE_FIELD(msgtype, outname, outname_json, fldname) \
	{ \
		size_t __s = w_begin(FIELD(msgtype, outname)); \
		_outNode(NULL, &node->fldname); \
		w_end(__s); \
	}

#define WRITE_NODE_PTR_FIELD(msgtype, outname, outname_json, fldname) \
	if (node->fldname != NULL) { \
		size_t __s = w_begin(FIELD(msgtype, outname)); \
		_outNode(NULL, node->fldname); \
		w_end(__s); \
	}

#define WRITE_SPECIFIC_NODE_FIELD(msgtype, typename, typename_underscore, outname, outname_json, fldname) \
	{ \
		size_t __s = w_begin(FIELD(msgtype, outname)); \
		_out##typename(NULL, &node->fldname); \
		w_end(__s); \
	}

/* Recurses without passing through _outNode, so it checks the stack itself (as upb's path does). */
#define WRITE_SPECIFIC_NODE_PTR_FIELD(msgtype, typename, typename_underscore, outname, outname_json, fldname) \
	if (node->fldname != NULL) { \
		size_t __s; \
		check_stack_depth(); \
		__s = w_begin(FIELD(msgtype, outname)); \
		_out##typename(NULL, node->fldname); \
		w_end(__s); \
	}

static void _outNode(void *out, const void *obj);

static void
_outItems(uint32_t field, const List *node)
{
	const ListCell *lc;

	foreach(lc, node)
	{
		size_t		s = w_begin(field);

		_outNode(NULL, lfirst(lc));
		w_end(s);
	}
}

static void
_outList(void *out, const List *node)
{
	_outItems(FIELD(List, items), node);
}

static void
_outIntList(void *out, const List *node)
{
	_outItems(FIELD(IntList, items), node);
}

static void
_outOidList(void *out, const List *node)
{
	_outItems(FIELD(OidList, items), node);
}

static void
_outInteger(void *out, const Integer *node)
{
	w_int(FIELD(Integer, ival), node->ival);
}

static void
_outFloat(void *out, const Float *node)
{
	w_string(FIELD(Float, fval), node->fval);
}

static void
_outBoolean(void *out, const Boolean *node)
{
	w_uint(FIELD(Boolean, boolval), node->boolval ? 1 : 0);
}

static void
_outString(void *out, const String *node)
{
	w_string(FIELD(String, sval), node->sval);
}

static void
_outBitString(void *out, const BitString *node)
{
	w_string(FIELD(BitString, bsval), node->bsval);
}

/* A constant's value is a one-of whose message is present even when it holds a zero. */
#define ACONST_CASE(tag, field, type, member) \
	case tag: \
		s = w_begin(FIELD(A_Const, field)); \
		_out##type(NULL, &node->val.member); \
		w_end(s); \
		break;

static void
_outAConst(void *out, const A_Const *node)
{
	size_t		s;

	w_uint(FIELD(A_Const, isnull), node->isnull ? 1 : 0);
	w_int(FIELD(A_Const, location), node->location);
	if (node->isnull)
		return;
	switch (nodeTag(&node->val.node))
	{
			ACONST_CASE(T_Integer, ival, Integer, ival)
			ACONST_CASE(T_Float, fval, Float, fval)
			ACONST_CASE(T_Boolean, boolval, Boolean, boolval)
			ACONST_CASE(T_String, sval, String, sval)
			ACONST_CASE(T_BitString, bsval, BitString, bsval)
		default:
			Assert(false);
	}
}

#include "pg_query_enum_defs.c"
#include "pg_query_outfuncs_defs.c"

/* An empty message for a field whose presence is all lowering reads (`has_where`). */
#define WRITE_PRESENCE_FIELD(msgtype, outname, fldname) \
	if (node->fldname != NULL) { \
		size_t __s = w_begin(FIELD(msgtype, outname)); \
		w_end(__s); \
	}

/*
 * The lint trees. Lowering reads a DML statement's target table and whether it has a WHERE
 * clause, a view's name, and a CREATE TABLE AS's target, never the queries, value lists or
 * expressions inside them; those are most of a migration's tree (views and data fixes), so they
 * are not written. The lowering-equivalence test in pg_ffi.rs lowers every corpus statement from
 * both trees and fails if lowering ever reads a field left out here.
 *
 * A statement's WITH clause is written: a data-modifying CTE (`WITH d AS (DELETE FROM t
 * RETURNING *) INSERT ...`) is a statement of its own, written shallow by the same recursion,
 * and the CTE names tell a FROM item that reads a CTE from one that reads a table.
 */
static void
_shallowInsertStmt(const InsertStmt *node)
{
	WRITE_SPECIFIC_NODE_PTR_FIELD(InsertStmt, WithClause, with_clause, with_clause, withClause, withClause);
	WRITE_SPECIFIC_NODE_PTR_FIELD(InsertStmt, RangeVar, range_var, relation, relation, relation);
}

static void
_shallowUpdateStmt(const UpdateStmt *node)
{
	WRITE_SPECIFIC_NODE_PTR_FIELD(UpdateStmt, WithClause, with_clause, with_clause, withClause, withClause);
	WRITE_SPECIFIC_NODE_PTR_FIELD(UpdateStmt, RangeVar, range_var, relation, relation, relation);
	WRITE_PRESENCE_FIELD(UpdateStmt, where_clause, whereClause);
}

static void
_shallowDeleteStmt(const DeleteStmt *node)
{
	WRITE_SPECIFIC_NODE_PTR_FIELD(DeleteStmt, WithClause, with_clause, with_clause, withClause, withClause);
	WRITE_SPECIFIC_NODE_PTR_FIELD(DeleteStmt, RangeVar, range_var, relation, relation, relation);
	WRITE_PRESENCE_FIELD(DeleteStmt, where_clause, whereClause);
}

static void
_shallowMergeStmt(const MergeStmt *node)
{
	WRITE_SPECIFIC_NODE_PTR_FIELD(MergeStmt, WithClause, with_clause, with_clause, withClause, withClause);
	WRITE_SPECIFIC_NODE_PTR_FIELD(MergeStmt, RangeVar, range_var, relation, relation, relation);
	WRITE_PRESENCE_FIELD(MergeStmt, join_condition, joinCondition);
}

/* The first FROM item only when it is a plain table: lowering names no other. */
static void
_shallowSelectStmt(const SelectStmt *node)
{
	WRITE_SPECIFIC_NODE_PTR_FIELD(SelectStmt, WithClause, with_clause, with_clause, withClause, withClause);
	WRITE_SPECIFIC_NODE_PTR_FIELD(SelectStmt, IntoClause, into_clause, into_clause, intoClause, intoClause);
	if (node->fromClause != NULL && IsA(linitial(node->fromClause), RangeVar))
	{
		size_t		s = w_begin(FIELD(SelectStmt, from_clause));

		_outNode(NULL, linitial(node->fromClause));
		w_end(s);
	}
	WRITE_PRESENCE_FIELD(SelectStmt, where_clause, whereClause);
}

static void
_shallowViewStmt(const ViewStmt *node)
{
	WRITE_SPECIFIC_NODE_PTR_FIELD(ViewStmt, RangeVar, range_var, view, view, view);
	WRITE_BOOL_FIELD(ViewStmt, replace, replace, replace);
}

static void
_shallowCreateTableAsStmt(const CreateTableAsStmt *node)
{
	WRITE_SPECIFIC_NODE_PTR_FIELD(CreateTableAsStmt, IntoClause, into_clause, into, into, into);
	WRITE_ENUM_FIELD(CreateTableAsStmt, ObjectType, objtype, objtype, objtype);
	WRITE_BOOL_FIELD(CreateTableAsStmt, is_select_into, is_select_into, is_select_into);
	WRITE_BOOL_FIELD(CreateTableAsStmt, if_not_exists, if_not_exists, if_not_exists);
}

#define SHALLOW_CASE(typename, fldname) \
	case T_##typename: \
		s = w_begin(FIELD(Node, fldname)); \
		_shallow##typename((const typename *) obj); \
		w_end(s); \
		return true;

/* Writes `obj` as a lint tree when it is one of the statements above; false otherwise. */
static bool
write_shallow(const void *obj)
{
	size_t		s;

	switch (nodeTag(obj))
	{
			SHALLOW_CASE(InsertStmt, insert_stmt)
			SHALLOW_CASE(UpdateStmt, update_stmt)
			SHALLOW_CASE(DeleteStmt, delete_stmt)
			SHALLOW_CASE(MergeStmt, merge_stmt)
			SHALLOW_CASE(SelectStmt, select_stmt)
			SHALLOW_CASE(ViewStmt, view_stmt)
			SHALLOW_CASE(CreateTableAsStmt, create_table_as_stmt)
		default:
			return false;
	}
}

static void
_outNode(void *out, const void *obj)
{
	check_stack_depth();

	if (obj == NULL)
		return;

	if (w.shallow && write_shallow(obj))
		return;

	switch (nodeTag(obj))
	{
#include "pg_query_outfuncs_conds.c"

		default:
			elog(WARNING, "could not dump unrecognized node type: %d", (int) nodeTag(obj));
			return;
	}
}

/* The result of sluice_pg_parse: the encoded ParseResult, or an error. */
typedef struct
{
	const char *data;
	size_t		len;
	PgQueryError *error;
} SluicePgParse;

static PgQueryError *
copy_error(MemoryContext ctx)
{
	ErrorData  *error_data;
	PgQueryError *error;

	MemoryContextSwitchTo(ctx);
	error_data = CopyErrorData();
	error = malloc(sizeof(PgQueryError));
	if (error == NULL)
		abort();
	error->message = strdup(error_data->message);
	error->filename = error_data->filename ? strdup(error_data->filename) : NULL;
	error->funcname = error_data->funcname ? strdup(error_data->funcname) : NULL;
	error->context = NULL;
	error->lineno = error_data->lineno;
	error->cursorpos = error_data->cursorpos;
	FlushErrorState();
	return error;
}

/*
 * Parses `input` with the server grammar and encodes the tree as a pg_query.ParseResult (the
 * lint tree when `shallow` is true: see write_shallow). On
 * success `data` points into this thread's buffer, valid until the next call on this thread
 * or sluice_pg_parse_release(); on failure `error` must be freed with pg_query_free_error().
 */
SluicePgParse
sluice_pg_parse(const char *input, bool shallow)
{
	SluicePgParse result = {0};
	MemoryContext ctx = pg_query_enter_memory_context();
	PgQueryInternalParsetreeAndError parsed = pg_query_raw_parse(input, PG_QUERY_PARSE_DEFAULT);

	free(parsed.stderr_buffer);
	if (parsed.error != NULL)
	{
		result.error = parsed.error;
		pg_query_exit_memory_context(ctx);
		return result;
	}

	w.len = 0;
	w.depth = 0;
	w.shallow = shallow;
	PG_TRY();
	{
		const ListCell *lc;

		w_int(FIELD(ParseResult, version), PG_VERSION_NUM);
		if (parsed.tree != NULL)
		{
			foreach(lc, (const List *) parsed.tree)
			{
				size_t		s = w_begin(FIELD(ParseResult, stmts));

				_outRawStmt(NULL, lfirst(lc));
				w_end(s);
			}
		}
		result.data = w.data;
		result.len = w.len;
	}
	PG_CATCH();
	{
		result.data = NULL;
		result.len = 0;
		result.error = copy_error(ctx);
	}
	PG_END_TRY();

	pg_query_exit_memory_context(ctx);
	return result;
}

/* Gives back this thread's buffer if one statement made it large. */
void
sluice_pg_parse_release(void)
{
	if (w.cap > KEEP_CAPACITY)
	{
		free(w.data);
		w.data = NULL;
		w.cap = 0;
	}
	w.len = 0;
}
