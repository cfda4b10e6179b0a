"""extract.py POSTERIORDB_GIT_DIR OUT_DIR: for every posterior of posteriordb with reference
draws, write OUT_DIR/<posterior>/{model.stan, data.json, ref.json}; ref.json holds each
parameter's reference mean and sd (over all chains of the reference draws).
POSTERIORDB_GIT_DIR is a clone (or bare mirror) of github.com/stan-dev/posteriordb."""
import json, os, subprocess, zipfile, io, sys
R, OUT = sys.argv[1], sys.argv[2]
def show(path):
    return subprocess.run(["git", "-C", R, "show", "HEAD:" + path], capture_output=True).stdout
names = subprocess.run(["git","-C",R,"ls-tree","--name-only","HEAD","posterior_database/reference_posteriors/draws/draws/"],capture_output=True,text=True).stdout.split()
for n in names:
    post = os.path.basename(n)[:-len(".json.zip")]
    raw = show(n)
    if len(raw) < 1000: print("skip", post); continue
    pj = json.loads(show(f"posterior_database/posteriors/{post}.json"))
    model, data = pj["model_name"], pj["data_name"]
    code = show(f"posterior_database/models/stan/{model}.stan")
    dz = show(f"posterior_database/data/data/{data}.json.zip")
    post = os.path.join(OUT, post)
    os.makedirs(post, exist_ok=True)
    open(f"{post}/model.stan","wb").write(code)
    z = zipfile.ZipFile(io.BytesIO(dz)); open(f"{post}/data.json","wb").write(z.read(z.namelist()[0]))
    z = zipfile.ZipFile(io.BytesIO(raw)); draws = json.loads(z.read(z.namelist()[0]))
    ref = {}
    for k in draws[0]:
        xs = [v for ch in draws for v in ch[k]]
        m = sum(xs)/len(xs); s = (sum((x-m)**2 for x in xs)/(len(xs)-1))**0.5
        ref[k] = [m, s]
    json.dump(ref, open(f"{post}/ref.json","w"), indent=0)
    print(post, len(ref))
