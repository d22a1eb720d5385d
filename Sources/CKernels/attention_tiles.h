// The attention kernel's tile sizes and scratch layout, shared by its bodies (attention_body.h) and dispatch.c.
#ifndef SIGNBERT_ATTENTION_TILES_H
#define SIGNBERT_ATTENTION_TILES_H

// Query rows per tile: all of them up to query_tile.
static inline long sb_attention_tile_rows(long tokens, long query_tile) {
    if (query_tile < 1) query_tile = 1;
    return tokens < query_tile ? tokens : query_tile;
}

// Keys per tile: all of them up to key_tile, else key_tile rounded up to whole 16-key panels.
static inline long sb_attention_tile_keys(long tokens, long key_tile) {
    if (tokens <= key_tile) return tokens;
    const long whole = (key_tile + 15) / 16 * 16;
    return whole < tokens ? whole : tokens;
}

// K's panels, V's panels, one tile of scores, and each tile row's running max and sum.
static inline long sb_attention_scratch_count(long tokens, long head_dim, long query_tile, long key_tile) {
    const long rows = sb_attention_tile_rows(tokens, query_tile), keys = sb_attention_tile_keys(tokens, key_tile);
    return (tokens + 15) / 16 * 16 * head_dim + (head_dim + 15) / 16 * 16 * tokens + rows * keys + 2 * rows;
}
#endif
