// error: tuple_constraint.stan:4:20: error: a tuple cannot have a constraint ('<...>' after 'tuple(...)'); constrain its elements: tuple(real<lower=0>, ...)
// status: VI_EPARSE
data {
  tuple(real, real)<lower=0> t;
}
