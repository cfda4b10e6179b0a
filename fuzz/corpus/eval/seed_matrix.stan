data { int N; int K; }
parameters { vector[K] v; cholesky_factor_corr[3] L; cov_matrix[2] S; }
model { v ~ normal(0, 1); L ~ lkj_corr_cholesky(2); S ~ wishart(4, diag_matrix(rep_vector(1, 2))); }
@@
pÿ