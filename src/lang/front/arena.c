/* arena.c: the bump allocator that holds every node of one vi_ast, so a whole tree is
 * freed with one call and the parser never has to free on its error paths.  Memory
 * comes in chunks that double in size (as in most compiler arenas, e.g. Lua's string
 * buffers grow the same way); allocations are zeroed and 16-byte aligned. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "lang/front/ast.h"

typedef struct arena_chunk {
  struct arena_chunk *next;
  size_t cap, used;
  /* data follows, aligned by the header size rounding below */
} arena_chunk;

struct ast_arena {
  arena_chunk *head;
  size_t next_cap;
};

#define ARENA_ALIGN 16
#define ARENA_HDR (((sizeof(arena_chunk) + ARENA_ALIGN - 1) / ARENA_ALIGN) * ARENA_ALIGN)

struct ast_arena *ast_arena_new(void)
{
  struct ast_arena *a = calloc(1, sizeof *a);
  if (a) a->next_cap = 16384;
  return a;
}

void *ast_arena_alloc(struct ast_arena *a, size_t size)
{
  if (!a) return NULL;
  if (size == 0) size = 1;
  if (size > SIZE_MAX / 2 - ARENA_HDR - ARENA_ALIGN) return NULL;
  size = (size + ARENA_ALIGN - 1) / ARENA_ALIGN * ARENA_ALIGN;
  arena_chunk *c = a->head;
  if (!c || c->cap - c->used < size) {
    size_t cap = a->next_cap;
    while (cap < size) cap *= 2;
    c = malloc(ARENA_HDR + cap);
    if (!c) return NULL;
    c->cap = cap;
    c->used = 0;
    c->next = a->head;
    a->head = c;
    if (a->next_cap < (size_t)1 << 24) a->next_cap *= 2;
  }
  void *p = (char *)c + ARENA_HDR + c->used;
  c->used += size;
  memset(p, 0, size);
  return p;
}

char *ast_arena_strndup(struct ast_arena *a, const char *s, size_t n)
{
  char *p = ast_arena_alloc(a, n + 1);
  if (!p) return NULL;
  if (n) memcpy(p, s, n);
  p[n] = '\0';
  return p;
}

void ast_arena_free(struct ast_arena *a)
{
  if (!a) return;
  arena_chunk *c = a->head;
  while (c) {
    arena_chunk *n = c->next;
    free(c);
    c = n;
  }
  free(a);
}
