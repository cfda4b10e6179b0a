// warning: comments.stan:8:19: warning: parameter 'mu' has no prior: the posterior may be improper
/* A block comment
   over several lines, with non-ASCII text: σ, μ, ∑ */
data { // trailing comment
  int N; # hash comment
  /* inline */ vector[N] y;
}
parameters { real mu; } model { y ~ normal(mu, 1); /* end */ }
