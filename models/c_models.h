/* models/c_models.h: three models written in C against the public API (vi/model.h), as
 * embedding examples and as test subjects with known answers:
 *
 *   cm_normal   y_i ~ N(theta, sigma^2), sigma known, theta ~ N(m0, s0^2)   (conjugate)
 *   cm_linreg   y = X beta + e, e ~ N(0, sigma^2 I), beta ~ N(0, tau^2 I)  (conjugate)
 *   cm_logreg   y_i ~ Bernoulli(logit^-1(x_i' beta)), beta ~ N(0, tau^2 I) (no closed form)
 *
 * Each copies its data at _alloc, fills a vi_model with _model (the model object must
 * outlive any fit of it) and is released with the NULL-safe _free.  Log densities keep
 * every normalising constant, so the ELBO and log p(X) are on the true scale.  The two
 * conjugate models also report their exact log-evidence through the vi_model. */
#ifndef VI_C_MODELS_H
#define VI_C_MODELS_H

#include <stddef.h>
#include <vi/model.h>

/* ---- conjugate normal mean ---------------------------------------------------------- */
typedef struct cm_normal cm_normal;
cm_normal *cm_normal_alloc(const double *y, size_t n, double sigma, double m0, double s0);
void cm_normal_model(cm_normal *c, vi_model *m);
/* Posterior N(mean, sd^2) of theta, and log p(y). */
void cm_normal_posterior(const cm_normal *c, double *mean, double *sd);
double cm_normal_log_evidence(const cm_normal *c);
void cm_normal_free(cm_normal *c);
/* y_i = theta + sigma * N(0,1), i < n, deterministic given seed. */
void cm_normal_simulate(unsigned long seed, size_t n, double theta, double sigma, double *y);

/* ---- Bayesian linear regression, known noise ------------------------------------------ */
typedef struct cm_linreg cm_linreg;
/* X: n x d row-major, y: n. */
cm_linreg *cm_linreg_alloc(const double *X, const double *y, size_t n, size_t d,
                           double sigma, double tau);
void cm_linreg_model(cm_linreg *c, vi_model *m);
/* Posterior N(mean, cov) (cov d x d row-major, may be NULL), with precision
 * P = X'X / sigma^2 + I / tau^2 and mean = P^-1 X'y / sigma^2. */
void cm_linreg_posterior(const cm_linreg *c, double *mean, double *cov);
/* The optimum of the ELBO over mean-field Gaussians: the posterior mean, and
 * sd_j = 1 / sqrt(P_jj). */
void cm_linreg_mean_field(const cm_linreg *c, double *mean, double *sd);
/* log p(y) = log N(y; 0, sigma^2 I + tau^2 X X'). */
double cm_linreg_log_evidence(const cm_linreg *c);
/* The exact ELBO of q = N(mu, diag sd^2), in closed form (E_q of a quadratic). */
double cm_linreg_exact_elbo(const cm_linreg *c, const double *mu, const double *sd);
void cm_linreg_free(cm_linreg *c);
/* X_ij ~ N(0,1), beta_j ~ N(0,1), y = X beta + sigma N(0,1); beta may be NULL. */
void cm_linreg_simulate(unsigned long seed, size_t n, size_t d, double sigma, double *X,
                        double *y, double *beta);

/* ---- Bayesian logistic regression ------------------------------------------------------ */
typedef struct cm_logreg cm_logreg;
/* X: n x d row-major, y: n values in {0, 1}. */
cm_logreg *cm_logreg_alloc(const double *X, const int *y, size_t n, size_t d, double tau);
void cm_logreg_model(cm_logreg *c, vi_model *m);
void cm_logreg_free(cm_logreg *c);
/* X_ij ~ N(0,1), beta_j ~ N(0,1), y_i ~ Bernoulli(logit^-1(x_i' beta)); beta may be NULL. */
void cm_logreg_simulate(unsigned long seed, size_t n, size_t d, double *X, int *y,
                        double *beta);

#endif
