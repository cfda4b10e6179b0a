/* ptr_map.h: internal to lang/back: a map from pointers (AST nodes) to pointer-sized
 * values, for the evaluator's caches keyed by expression or statement: open addressing
 * with linear probing, doubled when half full, never shrunk.  The keys and values are
 * the caller's; a slot is valid until the next ptr_map_slot or ptr_map_clear. */
#ifndef VI_LANG_PTR_MAP_H
#define VI_LANG_PTR_MAP_H

#include <stddef.h>

typedef struct ptr_map {
  const void **key;   /* cap entries; NULL: empty */
  void **val;
  size_t cap, n;
} ptr_map;

/* key's value slot; NULL when key is not in the map. */
void **ptr_map_find(const ptr_map *m, const void *key);
/* key's value slot, added with value NULL when absent; NULL without memory (the map is
 * unchanged then). */
void **ptr_map_slot(ptr_map *m, const void *key);
/* dst (empty) takes src's keys, every value NULL; -1 without memory (dst stays empty). */
int ptr_map_copy_keys(ptr_map *dst, const ptr_map *src);
/* Frees the table (not what the values point to); the map is then empty. */
void ptr_map_clear(ptr_map *m);

#endif
