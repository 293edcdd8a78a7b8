// Plain C bitboard Othello: one shift-and-mask fill per direction (six steps, "dumb7fill"), no
// tables, no intrinsics beyond the compiler's popcount and trailing-zero builtins.
#include "CBaselineOthello.h"

// Opponent discs that can lie between in a sideways or diagonal line (not in columns 0 or 7).
#define INNER 0x7E7E7E7E7E7E7E7EULL

// The run of `mask` discs next to `from` going left (`<< n`) or right (`>> n`), up to six long.
static inline uint64_t run_left(uint64_t from, uint64_t mask, int n) {
    uint64_t run = mask & (from << n);
    for (int i = 0; i < 5; i++) run |= mask & (run << n);
    return run;
}

static inline uint64_t run_right(uint64_t from, uint64_t mask, int n) {
    uint64_t run = mask & (from >> n);
    for (int i = 0; i < 5; i++) run |= mask & (run >> n);
    return run;
}

uint64_t cbo_legal_moves(uint64_t player, uint64_t opponent) {
    uint64_t sideways = opponent & INNER, moves = 0;
    moves |= run_left(player, sideways, 1) << 1;
    moves |= run_right(player, sideways, 1) >> 1;
    moves |= run_left(player, opponent, 8) << 8;
    moves |= run_right(player, opponent, 8) >> 8;
    moves |= run_left(player, sideways, 7) << 7;
    moves |= run_right(player, sideways, 7) >> 7;
    moves |= run_left(player, sideways, 9) << 9;
    moves |= run_right(player, sideways, 9) >> 9;
    return moves & ~(player | opponent);
}

uint64_t cbo_flips(int square, uint64_t player, uint64_t opponent) {
    uint64_t move = 1ULL << square, sideways = opponent & INNER, flips = 0, run;
    run = run_left(move, sideways, 1);  if ((run << 1) & player) flips |= run;
    run = run_right(move, sideways, 1); if ((run >> 1) & player) flips |= run;
    run = run_left(move, opponent, 8);  if ((run << 8) & player) flips |= run;
    run = run_right(move, opponent, 8); if ((run >> 8) & player) flips |= run;
    run = run_left(move, sideways, 7);  if ((run << 7) & player) flips |= run;
    run = run_right(move, sideways, 7); if ((run >> 7) & player) flips |= run;
    run = run_left(move, sideways, 9);  if ((run << 9) & player) flips |= run;
    run = run_right(move, sideways, 9); if ((run >> 9) & player) flips |= run;
    return flips;
}

static inline int popcount(uint64_t x) { return __builtin_popcountll(x); }
static inline int lowest_square(uint64_t x) { return __builtin_ctzll(x); }

uint64_t cbo_perft(uint64_t player, uint64_t opponent, int depth) {
    uint64_t moves = cbo_legal_moves(player, opponent);
    if (moves == 0) {
        if (depth <= 1 || cbo_legal_moves(opponent, player) == 0) return 1;
        return cbo_perft(opponent, player, depth - 1);
    }
    if (depth <= 1) return depth == 1 ? (uint64_t)popcount(moves) : 1;
    uint64_t total = 0;
    while (moves) {
        int square = lowest_square(moves);
        moves &= moves - 1;
        uint64_t flips = cbo_flips(square, player, opponent);
        total += cbo_perft(opponent ^ flips, player | flips | (1ULL << square), depth - 1);
    }
    return total;
}

static inline uint64_t xorshift64star(uint64_t *state) {
    uint64_t x = *state;
    x ^= x >> 12; x ^= x << 25; x ^= x >> 27;
    *state = x;
    return x * 0x2545F4914F6CDD1DULL;
}

uint64_t cbo_random_games(uint64_t seed, int64_t first, int64_t count, int8_t *moves) {
    uint64_t total = 0;
    for (int64_t game = 0; game < count; game++) {
        uint64_t state = (seed ^ (uint64_t)(first + game) * 0x9E3779B97F4A7C15ULL) | 1;
        int8_t *out = moves + 60 * game;
        uint64_t player = (1ULL << 28) | (1ULL << 35), opponent = (1ULL << 27) | (1ULL << 36);
        int length = 0;
        for (;;) {
            uint64_t legal = cbo_legal_moves(player, opponent);
            if (legal == 0) {
                uint64_t t = player; player = opponent; opponent = t;
                legal = cbo_legal_moves(player, opponent);
                if (legal == 0) break;
            }
            int k = (int)(xorshift64star(&state) % (uint64_t)popcount(legal));
            while (k-- > 0) legal &= legal - 1;
            int square = lowest_square(legal);
            uint64_t flips = cbo_flips(square, player, opponent);
            uint64_t next = opponent ^ flips;
            opponent = player | flips | (1ULL << square);
            player = next;
            out[length++] = (int8_t)square;
        }
        for (int i = length; i < 60; i++) out[i] = -1;
        total += (uint64_t)length;
    }
    return total;
}
