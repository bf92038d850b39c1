/*
 * Stand-in for Valgrind's <valgrind/memcheck.h>, found first on the include path when
 * fuzz/run.sh builds libpg_query with FUZZ_SANITIZER=address and USE_VALGRIND.
 *
 * PostgreSQL's memory contexts hand out palloc chunks carved from large malloc'd blocks, so
 * AddressSanitizer alone sees only the blocks: a read past a chunk or after pfree lands in
 * addressable memory. The contexts already describe every chunk to Valgrind (chunk headers,
 * the slack after the requested size, freed chunks and free block space are "no access");
 * these macros turn the same requests into AddressSanitizer poisoning. Poisoning is rounded to
 * ASan's 8-byte granules in the direction that can only miss an error, never invent one.
 */
#ifndef SLUICE_FUZZ_VALGRIND_MEMCHECK_H
#define SLUICE_FUZZ_VALGRIND_MEMCHECK_H

#include <stddef.h>
#include <sanitizer/asan_interface.h>

#define VALGRIND_MAKE_MEM_NOACCESS(addr, size) \
	__asan_poison_memory_region((const volatile void *) (addr), (size_t) (size))
#define VALGRIND_MAKE_MEM_UNDEFINED(addr, size) \
	__asan_unpoison_memory_region((const volatile void *) (addr), (size_t) (size))
#define VALGRIND_MAKE_MEM_DEFINED(addr, size) \
	__asan_unpoison_memory_region((const volatile void *) (addr), (size_t) (size))
#define VALGRIND_CHECK_MEM_IS_DEFINED(addr, size) ((void) 0)

/* A chunk handed out is addressable; freeing is poisoned by the wipe_mem() calls that
 * CLOBBER_FREED_MEMORY (USE_ASSERT_CHECKING) adds, since a pool free does not say the size. */
#define VALGRIND_CREATE_MEMPOOL(pool, redzones, zeroed) ((void) 0)
#define VALGRIND_DESTROY_MEMPOOL(pool) ((void) 0)
#define VALGRIND_MEMPOOL_ALLOC(pool, addr, size) \
	__asan_unpoison_memory_region((const volatile void *) (addr), (size_t) (size))
#define VALGRIND_MEMPOOL_FREE(pool, addr) ((void) 0)
#define VALGRIND_MEMPOOL_CHANGE(pool, oldaddr, newaddr, size) \
	__asan_unpoison_memory_region((const volatile void *) (newaddr), (size_t) (size))

#endif
