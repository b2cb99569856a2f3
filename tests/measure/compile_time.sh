#!/usr/bin/env bash
# Measures build cost against model size: synthetic MLPs (Gemm chains on a 784-float input) of ~10k, 100k, 1M
# and 5M parameters, each built as a consumer project with a QuantModel item. Prints, per model: the first build
# (quantization + generation + compile), a rebuild after editing only Program.cs (generation + compile, the
# quantization target skipped), the generated source size and the compiled assembly size.
# Usage (from the repository root): bash tests/measure/compile_time.sh
set -euo pipefail
repo="$(cd "$(dirname "$0")/../.." && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
dotnet build "$repo/src/QuantGen.Build" -c Release -v:q -nologo >/dev/null
dotnet build "$repo/src/QuantGen.Cli" -c Release -v:q -nologo >/dev/null
dotnet build "$repo/src/QuantGen.Generator" -c Release -v:q -nologo >/dev/null

/usr/bin/python3 - "$work" <<'PY'
import sys, numpy as np, onnx
from onnx import helper, numpy_helper, TensorProto
work = sys.argv[1]
rng = np.random.default_rng(0)
# Hidden widths chosen so the parameter counts land near the targets.
for name, hidden in [("p10k", [12]), ("p100k", [120]), ("p1m", [1024, 192]), ("p5m", [2048, 1536])]:
    dims = [784] + hidden + [10]
    nodes, inits, prev = [], [], "image"
    for i in range(len(dims) - 1):
        w = (rng.standard_normal((dims[i + 1], dims[i])) / np.sqrt(dims[i])).astype(np.float32)
        b = np.zeros(dims[i + 1], np.float32)
        inits += [numpy_helper.from_array(w, f"w{i}"), numpy_helper.from_array(b, f"b{i}")]
        out = "logits" if i == len(dims) - 2 else f"h{i}"
        nodes.append(helper.make_node("Gemm", [prev, f"w{i}", f"b{i}"], [out + ("" if out == "logits" else "_pre")], transB=1, name=f"fc{i}"))
        if out != "logits":
            nodes.append(helper.make_node("Relu", [out + "_pre"], [out], name=f"relu{i}"))
        prev = out
    graph = helper.make_graph(nodes, name, [helper.make_tensor_value_info("image", TensorProto.FLOAT, [1, 784])],
                              [helper.make_tensor_value_info("logits", TensorProto.FLOAT, [1, 10])], inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    onnx.save(model, f"{work}/{name}.onnx")
    print(name, sum(int(np.prod(t.dims)) for t in inits), "parameters", file=sys.stderr)
PY

echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)" >&2
printf '| model | parameters | first build s | rebuild s (no quantization) | generated source bytes | assembly bytes |\n|---|---|---|---|---|---|\n'
for name in p10k p100k p1m p5m; do
  app="$work/$name"; mkdir -p "$app"
  cp "$work/$name.onnx" "$app/model.onnx"
  echo '<Project />' > "$app/Directory.Build.props"; echo '<Project />' > "$app/Directory.Build.targets"
  cat > "$app/App.csproj" <<XML
<Project Sdk="Microsoft.NET.Sdk">
  <Import Project="$repo/build/QuantGen.props" />
  <PropertyGroup>
    <OutputType>Exe</OutputType><TargetFramework>net10.0</TargetFramework><Configuration>Release</Configuration>
    <QuantGenCliPath>$repo/src/QuantGen.Cli/bin/Release/net10.0/QuantGen.Cli.dll</QuantGenCliPath>
    <QuantGenTaskAssembly>$repo/src/QuantGen.Build/bin/Release/netstandard2.0/QuantGen.Build.dll</QuantGenTaskAssembly>
    <QuantGenUseTaskHost>true</QuantGenUseTaskHost>
    <EmitCompilerGeneratedFiles>true</EmitCompilerGeneratedFiles>
  </PropertyGroup>
  <ItemGroup>
    <Analyzer Include="$repo/src/QuantGen.Generator/bin/Release/netstandard2.0/QuantGen.Generator.dll" />
    <QuantModel Include="model.onnx" ClassName="Net" Namespace="App" />
  </ItemGroup>
  <Import Project="$repo/build/QuantGen.targets" />
</Project>
XML
  echo 'var o = new float[App.Net.OutputLength]; new App.Net().Run(new float[App.Net.InputLength], o); System.Console.WriteLine(o[0]);' > "$app/Program.cs"
  params=$(/usr/bin/python3 -c "import onnx,numpy as np; m=onnx.load('$app/model.onnx'); print(sum(int(np.prod(t.dims)) for t in m.graph.initializer))")
  start=$(date +%s%N); dotnet build "$app" -nodeReuse:false -v:q -nologo >/dev/null; first=$(( ($(date +%s%N) - start) / 1000000 ))
  echo "// edit" >> "$app/Program.cs"
  start=$(date +%s%N); dotnet build "$app" -nodeReuse:false -v:q -nologo >/dev/null; second=$(( ($(date +%s%N) - start) / 1000000 ))
  src=$(find "$app/obj" -name "App.Net.g.cs" -printf '%s')
  dll=$(stat -c %s "$app/bin/Release/net10.0/App.dll")
  printf '| %s | %s | %d.%02d | %d.%02d | %s | %s |\n' "$name" "$params" $((first / 1000)) $((first % 1000 / 10)) $((second / 1000)) $((second % 1000 / 10)) "$src" "$dll"
done
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)" >&2
