/*
 * Stand-in for Valgrind's <valgrind/valgrind.h> (see memcheck.h next to it): the PostgreSQL
 * code libpg_query vendors uses it only to report Valgrind's error count after a query, which
 * AddressSanitizer does not keep (it stops at the first error).
 */
#ifndef SLUICE_FUZZ_VALGRIND_VALGRIND_H
#define SLUICE_FUZZ_VALGRIND_VALGRIND_H

#define RUNNING_ON_VALGRIND 0
#define VALGRIND_COUNT_ERRORS 0
#define VALGRIND_PRINTF(...) 0

#endif
