/* ast.h: the abstract syntax tree of a model file, produced by the parser (parser.c),
 * annotated by the checker (check.c) and interpreted by the evaluator (eval.c).
 * All nodes live in the program's arena (ast_arena_*) and are freed together. */
#ifndef VI_LANG_AST_H
#define VI_LANG_AST_H

#include <stddef.h>
#include "lang/types.h"

typedef struct vi_loc { int line, col; } vi_loc;

typedef struct vi_expr vi_expr;
typedef struct vi_stmt vi_stmt;
typedef struct vi_decl vi_decl;
typedef struct vi_func vi_func;

/* Program blocks, in the order they must appear.  BLK_LOCAL marks a local variable
 * (declared inside a statement block), BLK_LOOP a loop variable. */
typedef enum {
  BLK_FUNCTIONS = 0, BLK_DATA, BLK_TDATA, BLK_PARAMS, BLK_TPARAMS, BLK_MODEL, BLK_GQ,
  BLK_COUNT,
  BLK_LOCAL = BLK_COUNT, BLK_LOOP
} vi_block;

typedef enum {
  EX_INT_LIT, EX_REAL_LIT, EX_STRING_LIT,
  EX_VAR,         /* name; decl set by the checker */
  EX_UNARY,       /* op, args[0] */
  EX_BINARY,      /* op, args[0], args[1] */
  EX_TERNARY,     /* args[0] ? args[1] : args[2] */
  EX_CALL,        /* name(args) or name(args[0] | args[1..]); builtin set by checker */
  EX_INDEX,       /* args[0][index[0], ..., index[nindex-1]] */
  EX_ROW_VECTOR,  /* [args...]: row vector (or matrix, if the args are row vectors) */
  EX_ARRAY,       /* {args...} */
  EX_IMAG_LIT,    /* 2.5i: rval is the imaginary part (a complex value) */
  EX_TUPLE,       /* (args[0], ..., args[nargs-1]), nargs >= 2: a tuple; as the left
                     side of `=` it unpacks: (a, b) = f(...) */
  EX_PROJ         /* args[0].ival: element ival (1-based) of a tuple */
} vi_expr_kind;

typedef enum {
  IX_SINGLE,  /* x[i]     lo = i (int) */
  IX_MULTI,   /* x[idx]   lo = idx (int array) */
  IX_ALL,     /* x[:]     */
  IX_RANGE,   /* x[a:b]   lo = a, hi = b */
  IX_LOWER,   /* x[a:]    lo = a */
  IX_UPPER    /* x[:b]    hi = b */
} vi_index_kind;

typedef struct vi_index {
  vi_index_kind kind;
  vi_expr *lo, *hi;
} vi_index;

struct vi_expr {
  vi_expr_kind kind;
  vi_loc loc;
  vi_type type;          /* set by the checker */
  int data_only;         /* set by the checker: depends on data/transformed data only */
  long ival;             /* EX_INT_LIT */
  double rval;           /* EX_REAL_LIT */
  const char *str;       /* EX_STRING_LIT text (unquoted); EX_VAR / EX_CALL name */
  vi_op op;              /* EX_UNARY, EX_BINARY */
  vi_expr **args; int nargs;
  int has_bar;           /* EX_CALL written f(a | b, ...) */
  vi_index *index; int nindex;   /* EX_INDEX */
  vi_decl *decl;         /* EX_VAR: resolved by the checker */
  int builtin;           /* EX_CALL: builtin id from front.h (signatures.c), set by the checker
                            (-1 for the special call target(), VI_CALL_USER for a
                            user-defined function) */
  vi_func *func;         /* EX_CALL of a user-defined function: its definition */
  int *parts;            /* EX_CALL VI_CALL_TUPLE: the builtin of each element */
  int depth;             /* height of this subtree (1 for a leaf), set by the parser;
                            bounded (VI_AST_MAX_DEPTH), so recursive walks are safe */
};

/* EX_CALL.builtin of a call of a user-defined function, and of an ODE solver (args[0]
 * names the user-defined system function, set in func; ival: VI_ODE_*). */
#define VI_CALL_USER (-3)
#define VI_CALL_ODE (-4)
#define VI_CALL_REDUCE (-5)   /* reduce_sum(f, x, grainsize, ...) = f(x, 1, size(x), ...) */
enum { VI_ODE_OLD = 1, VI_ODE_NEW = 2, VI_ODE_NEW_TOL = 3,
       VI_ODE_ADJOINT = 4 /* ode_adjoint_tol_ctl: 14 control arguments */ };
/* The algebraic solvers (ival: VI_SOLVE_*), integrate_1d(f, a, b, theta, x_r, x_i[, tol])
 * and map_rect(f, phi, thetas, x_rs, x_is): args[0] names the user function (func). */
#define VI_CALL_SOLVE (-11)
#define VI_CALL_INTEGRATE (-12)
#define VI_CALL_MAP_RECT (-13)
/* A builtin that returns a tuple (svd, eigendecompose_sym, ...): nargs arguments, one
 * builtin per element in parts[0..type.tup->n-1], all called with the same values. */
#define VI_CALL_TUPLE (-14)
enum { VI_SOLVE_NEWTON = 1, VI_SOLVE_NEWTON_TOL, VI_SOLVE_POWELL, VI_SOLVE_POWELL_TOL,
       VI_SOLVE_OLD_POWELL, VI_SOLVE_OLD_NEWTON };   /* OLD: algebra_solver(_newton) */
/* Does the call's first argument name a function rather than hold a value? */
#define VI_CALL_NAMES_FUNCTION(b)                                                    \
  ((b) == VI_CALL_ODE || (b) == VI_CALL_REDUCE || (b) == VI_CALL_SOLVE               \
   || (b) == VI_CALL_INTEGRATE || (b) == VI_CALL_MAP_RECT)

/* Largest expression height and statement/parenthesis nesting the parser accepts. */
#define VI_AST_MAX_DEPTH 1000
#define VI_AST_MAX_NESTING 200

/* Constraint types; back/transforms.c has one table entry per value. */
typedef enum {
  CON_NONE = 0,
  CON_BOUNDS,            /* <lower=.., upper=..>: lower and/or upper set */
  CON_OFFSET_MULT,       /* <offset=.., multiplier=..>: either or both set */
  CON_SIMPLEX, CON_ORDERED, CON_POSITIVE_ORDERED, CON_UNIT_VECTOR,
  CON_CHOLESKY_CORR, CON_CHOLESKY_COV, CON_CORR_MATRIX, CON_COV_MATRIX,
  CON_SUM_TO_ZERO
} vi_constraint;

struct vi_decl {
  const char *name;
  vi_loc loc;
  vi_block block;
  vi_type type;               /* base + array depth */
  vi_expr **dims; int ndims;  /* array sizes (ndims == type.ndims) */
  vi_expr *size[2];           /* vector/row_vector/simplex..: size[0]; matrix: rows, cols;
                                 cholesky_factor_cov[M, N]: M, N (N may be NULL = M) */
  vi_constraint con;
  vi_expr *lower, *upper;     /* CON_BOUNDS, either may be NULL */
  vi_expr *offset, *multiplier; /* CON_OFFSET_MULT, either may be NULL */
  vi_expr *init;              /* `= expr` initialiser, or NULL */
  int slot;                   /* set by the checker: 0..nslots-1, unique in the program */
  const char *type_text;      /* the declared type as written, e.g. "simplex[K]" */
  int data_only;              /* set by the checker: the value depends on data only
                                 (data, transformed data, and locals/loop variables
                                 only ever assigned data-only values) */
  vi_decl **tel; int ntel;    /* a tuple (type.base VT_TUPLE): one unnamed declaration
                                 per element, with its own sizes and constraints */
};

typedef enum {
  ST_DECL,       /* decl (local, or a block-level declaration) */
  ST_ASSIGN,     /* lhs (EX_VAR or EX_INDEX of an EX_VAR) op= rhs; op OP_NONE for = */
  ST_TILDE,      /* lhs ~ name(args) [T[lo, hi]]; builtin = resolved _lpdf/_lpmf */
  ST_TARGET,     /* target += rhs */
  ST_FOR,        /* for (decl in lo:hi) body */
  ST_FOREACH,    /* for (decl in rhs) body */
  ST_WHILE,      /* while (rhs) body */
  ST_IF,         /* if (rhs) body else els (els may be NULL) */
  ST_BLOCK,      /* { stmts } */
  ST_PRINT,      /* print(args) */
  ST_REJECT,     /* reject(args) */
  ST_FATAL,      /* fatal_error(args) */
  ST_BREAK, ST_CONTINUE,
  ST_EMPTY,      /* ; */
  ST_RETURN,     /* return [rhs];  (user-defined functions only) */
  ST_CALL        /* rhs;  a call of a void user-defined function */
} vi_stmt_kind;

struct vi_stmt {
  vi_stmt_kind kind;
  vi_loc loc;
  vi_decl *decl;            /* ST_DECL; ST_FOR/ST_FOREACH loop variable */
  vi_expr *lhs;             /* ST_ASSIGN target, ST_TILDE variate */
  vi_op op;                 /* ST_ASSIGN */
  vi_expr *rhs;             /* ST_ASSIGN value, ST_TARGET, ST_FOREACH container,
                               ST_WHILE / ST_IF condition */
  vi_expr *lo, *hi;         /* ST_FOR range; ST_TILDE truncation bounds (NULL: none) */
  int truncated;            /* ST_TILDE had T[..] */
  const char *name;         /* ST_TILDE distribution name ("normal") */
  vi_expr **args; int nargs;/* ST_TILDE distribution arguments; PRINT/REJECT/FATAL items */
  int builtin;              /* ST_TILDE: builtin id of name_lpdf / name_lpmf */
  vi_func *func;            /* ST_TILDE of a user-defined name_lpdf / name_lpmf */
  int is_likelihood;        /* ST_TILDE / ST_TARGET: set by the checker, 1 when the
                               variate (first density argument) is data only */
  int shard_term;           /* ST_TILDE / ST_TARGET: set by back/shard.c when the data
                               are sharded, 1 for a term summed over the shards */
  vi_stmt *body, *els;      /* loops, if */
  vi_stmt **stmts; int nstmts; /* ST_BLOCK */
};

/* A user-defined function (the functions block).  Its kind follows from the name's
 * suffix, as in Stan: _rng may draw random numbers, _lp may change target, _lpdf /
 * _lpmf are densities (usable with `~`).  Arguments are declarations of block
 * BLK_FUNCTIONS (never assignable); they and the body's locals own the slots
 * [slot_lo, slot_hi), saved and restored around each call so recursion works. */
typedef enum { FN_PLAIN = 0, FN_RNG, FN_LP, FN_DENSITY } vi_func_kind;

struct vi_func {
  const char *name;
  vi_loc loc;
  vi_type ret;                  /* VT_VOID for void functions */
  vi_decl **params; int nparams;
  vi_stmt *body;                /* NULL for a forward declaration never defined */
  vi_func_kind kind;
  int slot_lo, slot_hi;         /* set by the checker */
};

/* The tuple element access x.k as the left side of an assignment goes through a
 * value, so lvalues are chains of EX_INDEX and EX_PROJ ending in an EX_VAR. */

/* A whole model file.  blocks[b] is an ST_BLOCK (NULL when the block is absent); the
 * declarations of a block are its leading ST_DECL statements. */
typedef struct vi_ast {
  vi_stmt *blocks[BLK_COUNT];
  vi_func **funcs; int nfuncs;   /* the functions block, definitions only, in order */
  vi_decl **slots; int nslots;   /* every declaration, by slot (set by the checker) */
  int no_split;                  /* set by the checker: some target term is neither a
                                    likelihood nor a prior term (log_sum_exp of local
                                    values, `target +=` in an _lp function): the
                                    likelihood / prior split of the ELBO is not known */
  const char **warnings; int nwarnings;  /* set by the checker (priors.c): one line each,
                                    "file:line:col: warning: ...", in declaration order */
  const char *name;              /* file name for messages */
  const char *source; size_t source_len;  /* the text, for caret lines */
  struct ast_arena *arena;
} vi_ast;

/* Arena for all nodes of one vi_ast. */
struct ast_arena;
struct ast_arena *ast_arena_new(void);
void *ast_arena_alloc(struct ast_arena *a, size_t size);   /* zeroed; NULL on OOM */
char *ast_arena_strndup(struct ast_arena *a, const char *s, size_t n);
void ast_arena_free(struct ast_arena *a);

/* Parse and check.  On error return NULL and fill err (vi/lang.h) with the first error:
 * file:line:col, the offending token, what was expected, and a caret line. */
struct vi_error;
vi_ast *front_parse(const char *source, size_t len, const char *name, struct vi_error *err);
int front_check(vi_ast *ast, struct vi_error *err);   /* VI_SUCCESS or an error status */
/* The static "no prior" check (priors.c), run by front_check: appends to ast->warnings
 * one warning per parameter that no prior term involves.  VI_SUCCESS or VI_ENOMEM. */
int front_check_priors(vi_ast *ast);
void front_ast_free(vi_ast *ast);

/* Format an error at loc into err (shared by parser, checker and evaluator):
 * "name:line:col: error: <msg>\n<source line>\n<caret>". */
void front_error_at(struct vi_error *err, int status, const vi_ast *ast, vi_loc loc,
                 const char *fmt, ...) __attribute__((format(printf, 5, 6)));

#endif
