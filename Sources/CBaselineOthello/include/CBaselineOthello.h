// A small, plain C bitboard Othello engine: the reference the `othello-gpt bench games` figures are
// measured against. Not used by the workbench itself.
#ifndef CBASELINE_OTHELLO_H
#define CBASELINE_OTHELLO_H

#include <stdint.h>

// Legal moves of `player` against `opponent` (bit 8*row + col).
uint64_t cbo_legal_moves(uint64_t player, uint64_t opponent);

// The discs `player` flips by playing on `square`.
uint64_t cbo_flips(int square, uint64_t player, uint64_t opponent);

// Perft leaves `depth` plies below (player to move, opponent): a pass is one ply, a finished game is
// one leaf, the last ply counted in bulk.
uint64_t cbo_perft(uint64_t player, uint64_t opponent, int depth);

// Plays `count` random games (uniform among legal moves, xorshift64* seeded from `seed` and the game
// index `first + i`), writing each game's squares to `moves + 60*i` (-1 after the end). Returns the
// total number of moves.
uint64_t cbo_random_games(uint64_t seed, int64_t first, int64_t count, int8_t *moves);

#endif
