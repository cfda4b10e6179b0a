// warning: crlf_tabs.stan:7:7: warning: parameter 'mu' has no prior: the posterior may be improper
data {
	int N;
	vector[N] y;
}
parameters {
	real mu;
}
model {
	y ~ normal(mu, 1);
}
