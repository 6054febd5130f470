// Every string of the UI, in English and 简体中文, from one catalog.
// t(key, {vars}) looks a key up in the current language (then English);
// apply(root) refreshes every element marked data-i18n.

const EN = {
  skip: "Skip to the lab",
  "tab.layers": "Layers", "tab.descend": "Optimizers", "tab.train": "Training", "tab.gallery": "Activations",
  presets: "Lecture presets", "presets.choose": "— choose —", share: "Copy link", copied: "Link copied",
  projector: "Projector", cvd: "Colour-blind safe", close: "Close", controls: "Controls",
  "conn.connecting": "connecting…", "conn.open": "connected", "conn.closed": "reconnecting…",
  "conn.full": "class full", compute: "compute", fps: "frames/s",
  full: "The class is full: this server is already serving its maximum number of students. DeepScope will retry by itself.",
  "error.prefix": "Server says",
  // errors, worded from the server's code and numbers (its English is the fallback)
  "err.less_than_equal": "must be at most {le}", "err.less_than": "must be less than {lt}",
  "err.greater_than_equal": "must be at least {ge}", "err.greater_than": "must be greater than {gt}",
  "err.missing": "is required", "err.extra_forbidden": "is not a known field",
  "err.literal_error": "must be one of {expected}", "err.int_parsing": "must be a whole number",
  "err.int_type": "must be a whole number", "err.int_from_float": "must be a whole number",
  "err.float_parsing": "must be a number", "err.float_type": "must be a number",
  "err.finite_number": "must be a finite number", "err.bool_type": "must be true or false",
  "err.bool_parsing": "must be true or false", "err.string_type": "must be text",
  "err.string_too_short": "is too short", "err.string_too_long": "is too long (at most {max_length} characters)",
  "err.too_short": "needs at least {min_length} entries", "err.too_long": "takes at most {max_length} entries",
  "err.list_type": "must be a list", "err.dict_type": "must be an object", "err.json_invalid": "is not valid JSON",
  "err.union_tag_invalid": "has an unknown kind", "err.surface_type": "must be a surface name or an object {\"expr\": …}",
  "err.layer_elements": "depth × width × batch = {value} exceeds the ceiling {limit}: reduce depth, width or batch",
  "err.layer_params": "the network would have {value} weights, over the ceiling {limit}: reduce depth, width or input dimension",
  "err.depth_widths": "depth ({depth}) must equal the number of widths ({widths})",
  "err.low_not_below_high": "low ({low}) must be less than high ({high})",
  "err.domain_order": "each range needs low < high",
  "err.typed_surface_params": "a typed surface takes no parameters",
  "err.descend_rows": "steps × runs = {value} rows exceeds {limit}: fewer steps or runs",
  "err.train_work": "steps × batch × parameters = {value} exceeds {limit}: fewer steps, a smaller batch or a smaller network",
  "err.newton_params": "Newton needs the full Hessian: at most {limit} parameters, this network has {value}",
  "err.start_dims": "needs {dims} coordinate(s) on this surface",
  "err.domain_dims": "needs {dims} range(s): the expression uses {vars}",
  "err.expression": "cannot be read: {message}",
  "vars.1": "x only", "vars.2": "x and y",
  "err.code.internal": "the lab failed; try other settings", "err.code.no_lab": "choose a lab first",
  "err.code.bad_json": "the message is not valid JSON",
  // the layers lab fits the server's size ceiling
  "size.batch": "Batch reduced to {batch} (you asked for {wanted}) to fit depth {depth} × width {width} under the ceiling of {limit} values.",
  "size.depth": "Depth limited to {value}: more layers would exceed the ceiling of {limit} weights.",
  "size.width": "Width limited to {value}: wider layers would exceed the ceiling of {limit} weights.",
  "size.input_dim": "Input dimension limited to {value}: more would exceed the ceiling of {limit} weights.",
  // layers lab
  "g.network": "Network", "g.inputs": "Inputs", "g.units": "Units", "g.init": "Initialisation",
  "g.tricks": "Normalisation and friends", "g.run": "Run", "g.view": "View", "g.export": "Export",
  "g.surface": "Surface", "g.runs": "Runners", "g.data": "Data", "g.optimizer": "Optimizer", "g.params": "Parameters",
  "f.depth": "Depth (layers)", "f.width": "Width (units per layer)", "f.input_dim": "Input dimension",
  "f.batch": "Batch size", "f.input": "Input distribution", "input.normal": "normal N(mean, std²)",
  "input.uniform": "uniform U(low, high)", "f.mean": "mean", "f.std": "std", "f.low": "low", "f.high": "high",
  "f.activation": "Activation", "f.init": "Init scheme", "f.scale": "Init scale (× the scheme's std)",
  "f.bias": "Bias init", "f.batchnorm": "Batch norm", "bn.off": "off", "bn.train": "on, batch statistics",
  "bn.eval": "on, fixed statistics", "f.dropout_keep": "Dropout keep probability p", "f.dropout_mode": "Dropout form",
  "dropout.inverted": "inverted (÷p when training)", "dropout.classic": "classic (×p at test)",
  "f.residual": "Skip connections", "f.seed": "Seed", new_seed: "New seed", "f.bins": "Histogram bins",
  "view.quantity": "Histograms of", "q.activation": "activation h = f(z)", "q.preactivation": "pre-activation z",
  "q.derivative": "local derivative f′(z)", "q.gradient": "upstream gradient ∂L/∂h",
  "q.weight_gradient": "weight gradient ∂L/∂W", "view.logy": "Log scale for the moments",
  "export.csv": "CSV", "export.json": "JSON", "export.numpy": "Reproduce in NumPy",
  "layers.loss": "The backward pass uses L = ½‖h_L‖²/N, so ∂L/∂h_L = h_L/N.",
  "p.alpha": "α", "p.k": "pieces k",
  "c.histograms": "Per-layer histograms", "c.moments": "Mean and std per layer",
  "c.health": "Saturated, dead and zero", "c.gradnorm": "Weight-gradient norm per layer",
  "axis.log10": "log₁₀|value|", "axis.layer": "layer", "axis.share": "share", "axis.step": "step",
  "axis.distance": "‖θ − θ*‖", "axis.efflr": "effective learning rate",
  "hist.panel": "each panel spans", "hist.log": "magnitudes on a log axis", "hist.linear": "fixed bins; ‹ › count what falls outside",
  "m.act_std": "std of h", "m.pre_std": "std of z", "m.act_mean": "mean of h", "m.theory": "theory √Var(z)",
  "m.theory_clipped": "theory leaves the chart: {value} at layer {layer}",
  "hist.count": "{count} of {total}", "hist.value": "value", "hist.magnitude": "magnitude |value| (log axis)",
  "h.saturated": "saturated", "h.dead": "dead units (share)", "h.zero": "zeros per sample",
  "h.dead.pending": "dead units: with the complete frame", "layers.preview": "preview · {samples} of {batch} samples",
  "h.dead_units": "dead units", target: "target",
  "h.zero.hint": "Zeros per sample: the share of a layer's (sample, unit) values h that are exactly 0, i.e. a ReLU that is off for that sample (≈ 50 % at He init is normal). Dead units are 0 for every sample. σ, tanh and the smooth units are never 0: an exact 0 there is float underflow, flagged below.",
  "f.dtype": "Precision", "dtype.float32": "float32 (what GPUs train in)", "dtype.float64": "float64 (double)",
  "dtype.hint": "float32 holds magnitudes down to 1.4·10⁻⁴⁵; smaller values become exactly 0. float64 goes down to 4.9·10⁻³²⁴ (and is slower).",
  "flag.underflow": "Layers {layers}: every value of the {q} is exactly 0 in {dtype}. It underflowed: its true values are below {dtype}'s smallest number ({tiny}). Switch the precision to float64 to see them.",
  "flag.underflow_some": "Layers {layers}: up to {share} % of the activations are exactly 0 in {dtype}, though {act} is never 0: they underflowed (below {tiny}).",
  "flag.logaxis": "A log axis cannot show 0, so those layers have nothing to draw here.", no_target: "no simple target", "h.rule": "saturated means",
  "live.layers": "{n} layers: activation std {first} in layer 1, {last} in the last; {sat} % saturated there.",
  // optimizer lab
  "f.surface": "Surface", "surface.custom": "Type your own…", "f.expr": "f(x, y) =", "f.domain": "Domain [[x₀, x₁], [y₀, y₁]]",
  "f.expr1": "f(x) =", "f.domain1": "Domain [[x₀, x₁]]",
  "domain.bad1": "This expression uses x only: give one range, e.g. [[-5, 5]] (or leave the box empty).",
  "domain.bad2": "This expression uses x and y: give two ranges, e.g. [[-5, 5], [-5, 5]] (or leave the box empty).",
  apply: "Apply", "expr.help": "Use x and y, numbers, + − * / ** ^, parentheses, pi, e and",
  "f.steps": "Steps", "f.steps_per_frame": "Steps per frame", "run.add": "Add a runner",
  "view.logz": "Log-scale contours", "view.surface3d": "3-D surface",
  click_start: "Click the contour to move every runner's start.",
  "sp.condition": "condition number", "sp.rotation": "rotation (°)", "sp.a": "a", "sp.b": "b",
  "f.optimizer": "Optimizer", "run.remove": "Remove", "run.select": "Show", "f.lr": "Learning rate",
  "f.lr_newton": "Step scale lr (1 = the full Newton step)",
  "run.more": "More hyper-parameters", "f.momentum": "momentum ρ", "f.rho": "decay ρ", "f.beta1": "β₁ (first moment)",
  "f.beta2": "β₂ (second moment)", "f.eps": "ε", "f.weight_decay": "weight decay", "f.bias_correction": "bias correction",
  "f.initial_accumulator": "initial accumulator", "f.schedule": "Schedule", "sched.constant": "constant",
  "sched.inv_sqrt": "1/√(t+1)", "sched.step": "step", "sched.exponential": "exponential", "sched.cosine": "cosine",
  "f.noise": "Gradient noise σ", "f.clip_norm": "Clip norm (empty: off)",
  "c.surface": "Paths on the surface", "c.loss": "Loss", "c.distance": "Distance to the nearest minimum",
  "c.efflr": "Effective learning rate (per coordinate)", "c.equation": "The update, with live numbers",
  "distance.none": "This surface has no minimum: no distance to show.",
  "loss.floor": "machine precision", "loss.floor_hint": "below this, f − f* is float64 rounding",
  "loss.floor_hint_distance": "below this, ‖θ − θ*‖ is float64 rounding",
  "c.surface3d": "3-D surface", "kind.minimum": "min", "kind.maximum": "max", "kind.saddle": "saddle",
  "kind.degenerate": "degenerate", "live.step": "Step", "status.running": "running", "status.converged": "converged",
  "status.diverged": "diverged", start: "start", critical: "critical points", step: "step",
  // training lab
  "f.dataset": "Dataset", "ds.circle": "circle", "ds.xor": "xor", "ds.gaussians": "two Gaussians",
  "ds.spiral": "spiral", "ds.moons": "two moons", "ds.linear": "linear", "ds.logic": "logic gate (4 points)",
  "f.gate": "Gate", "f.data_noise": "Noise", "f.n_samples": "Samples", "f.train_share": "Training share", "f.hidden": "Hidden widths (e.g. 8, 8)",
  "hidden.bad": "Use up to 12 whole numbers from 1 to 1000, separated by commas.",
  "f.batchnorm_on": "Batch norm", "f.l1": "L1 λ₁", "f.l2": "L2 λ₂", "f.batch_size": "Batch size",
  "c.boundary": "Decision boundary", "c.train_loss": "Loss and accuracy", "c.dead": "Dead units per layer",
  "c.distribution": "Activation distribution over steps", "c.train_grad": "Gradient norm and update/weight ratio",
  "c.weights": "Weights into each first-layer unit", "view.layer": "Layer",
  "live.train": "Step {step}: loss {loss}, test accuracy {acc} %, {dead} dead units.",
  diverged: "Diverged", blowup: "Blew up",
  "blowup.loss": "the loss spiked at step {step} to {peak}, {times}× its start ({start}).",
  "blowup.ratio": "Each update is {ratio}× the weights (‖Δθ‖/‖θ‖; healthy is about 0.001).",
  "blowup.saturated": "{share} % of layer {layer}'s units are saturated (f′ ≈ 0: they stop learning).",
  "blowup.dead": "{share} % of layer {layer}'s units are dead (0 on every input).",
  "blowup.try": "The learning rate ({lr}) is too high for this network: try {lower}. The weights are still finite, so the run goes on.",
  train_set: "training points", test_set: "test points", accuracy: "accuracy",
  params: "parameters", train_loss: "training loss", test_loss: "test loss", loss: "loss", unit: "unit",
  "weights.axis": "w", "weights.sub": "solid: from x₁ · dashed: from x₂",
  // gallery
  "f.range": "x range ±", "view.derivative": "Show f′ (dashed)", "view.relusum": "ReLU sum max(0, x+1) − max(0, x−1)",
  "c.gallery": "Activations and their derivatives",
  "gallery.shade": "Shaded: where a saturating unit is flat (|f′| < 0.01).",
  "gp.leaky_relu.alpha": "leaky_relu α", "gp.prelu.alpha": "prelu α", "gp.elu.alpha": "elu α", "gp.maxout.k": "maxout pieces k",
  // player
  play: "Play", pause: "Pause", "step.btn": "Step", reset: "Reset",
  "state.running": "running", "state.paused": "paused", "state.diverged": "diverged", "state.finished": "finished",
  "keys.hint": "Keys: space play/pause, → one step, r reset; PageDown / PageUp (or n / p): next / previous preset.",
  // the lecture walk, the welcome
  "walk.preset": "Preset {n} of {total}", "walk.first": "This is the first preset.",
  "walk.last": "That was the last preset.",
  "welcome.title": "Welcome to DeepScope",
  "welcome.layers": "Pick a lecture preset above, or move the init scale and watch the histograms: does each layer's spread shrink, hold or explode?",
  "welcome.descend": "Pick a lecture preset above, or press Play and watch the optimizers race; click the contour to move the start.",
  "welcome.train": "Pick a lecture preset above, or press Play and watch the decision boundary form; then try a much larger learning rate.",
  "welcome.gallery": "Tick activations to see each one with its derivative; shaded regions are where it saturates.",
  "welcome.keys": "PageDown / PageUp (or n / p) walk through the presets.",
  // compare mode
  "compare.toggle": "Compare two configurations", "compare.edit": "Edit", "compare.group": "Compare (A | B)",
  "compare.hint": "B starts as a copy of A. The controls below edit the side chosen here; A is drawn solid, B dashed.",
  "compare.hint.train": "B starts as a copy of A. The controls below edit the side chosen here; a change restarts both runs, so that they stay in step. A is drawn solid, B dashed.",
  "side.a": "A", "side.b": "B",
  // training lab: own data
  "ds.uploaded": "your data (CSV)", "own.group": "Your data",
  "own.drop": "Drop a CSV file here (x, y, label per line; header optional), or choose one:",
  "own.choose": "Choose a CSV file", "own.paste": "…or paste CSV text", "own.use": "Use pasted data",
  "own.standardize": "Standardise (zero mean, unit variance)", "own.export": "Export data (CSV)",
  "own.reading": "Reading the data…",
  "own.limits": "Up to {rows} rows and {kb} kB; labels 0/1, −1/1 or two class names.",
  "own.info": "{rows} points · class 0: {zero} ({n0}) · class 1: {one} ({n1}) · x = {x}, y = {y}",
  "own.link": "A copied link keeps only a fingerprint of this data ({id}), not the data: whoever opens it is asked for the file.",
  "own.missing": "This link was made with its own data (fingerprint {id}). The data is not in the link: choose, drop or paste that CSV file to go on.",
  "own.other": "This is not the file the link was made with (fingerprint {id}); its points are used now.",
  "own.none": "Choose, drop or paste a CSV file to train on your own points.",
  "err.upload_empty": "the file has no data rows",
  "err.upload_bytes": "the file has {value} bytes; the limit is {limit}",
  "err.upload_binary": "row {row}: this is not a text file (it holds bytes a CSV never has)",
  "err.upload_line": "row {row}: the line has {value} characters; the limit is {limit}",
  "err.upload_rows": "row {row}: more than {limit} data rows",
  "err.upload_columns": "row {row}: {value} columns; a point needs 3 (x, y, label)",
  "err.upload_number": "row {row}, column {column}: {name} is '{value}', not a number",
  "err.upload_nonfinite": "row {row}, column {column}: {name} is not finite (NaN and infinities are not points)",
  "err.upload_range": "row {row}, column {column}: {name} is beyond ±{limit}",
  "err.upload_classes": "row {row}, column {column}: a third label {value} (the others are {first} and {second}): labels must be binary",
  "err.upload_one_class": "every point has the label {value}: a classifier needs two classes",
  "err.upload_label": "row {row}, column {column}: {name} must be a class name or a number",
  "err.upload_few_rows": "{value} data rows; at least {limit} are needed",
  "err.upload_csv": "row {row}: this is not valid CSV (a quote left open?)",
  "err.upload_source": "give either csv (a file's text) or points",
  "err.dataset_unknown": "the uploaded dataset {id} is not on the server (an upload ends with its session): upload the file again",
};

const ZH = {
  skip: "跳到实验区",
  "tab.layers": "逐层", "tab.descend": "优化器", "tab.train": "训练", "tab.gallery": "激活函数",
  presets: "课程预设", "presets.choose": "— 选择 —", share: "复制链接", copied: "链接已复制",
  projector: "投影模式", cvd: "色盲友好配色", close: "关闭", controls: "控件",
  "conn.connecting": "正在连接…", "conn.open": "已连接", "conn.closed": "正在重连…",
  "conn.full": "班级已满", compute: "计算", fps: "帧/秒",
  full: "班级已满：服务器已达到可服务学生数上限。DeepScope 会自动重试。",
  "error.prefix": "服务器提示",
  "err.less_than_equal": "不能大于 {le}", "err.less_than": "必须小于 {lt}",
  "err.greater_than_equal": "不能小于 {ge}", "err.greater_than": "必须大于 {gt}",
  "err.missing": "为必填项", "err.extra_forbidden": "不是已知字段",
  "err.literal_error": "必须是以下之一：{expected}", "err.int_parsing": "必须是整数",
  "err.int_type": "必须是整数", "err.int_from_float": "必须是整数",
  "err.float_parsing": "必须是数字", "err.float_type": "必须是数字",
  "err.finite_number": "必须是有限的数", "err.bool_type": "必须是 true 或 false",
  "err.bool_parsing": "必须是 true 或 false", "err.string_type": "必须是文本",
  "err.string_too_short": "太短", "err.string_too_long": "太长（最多 {max_length} 个字符）",
  "err.too_short": "至少需要 {min_length} 项", "err.too_long": "最多 {max_length} 项",
  "err.list_type": "必须是列表", "err.dict_type": "必须是对象", "err.json_invalid": "不是有效的 JSON",
  "err.union_tag_invalid": "类型未知", "err.surface_type": "必须是曲面名称或对象 {\"expr\": …}",
  "err.layer_elements": "depth × width × batch = {value}，超过上限 {limit}：请减小深度、宽度或批大小",
  "err.layer_params": "网络将有 {value} 个权重，超过上限 {limit}：请减小深度、宽度或输入维度",
  "err.depth_widths": "深度（{depth}）必须等于宽度列表的长度（{widths}）",
  "err.low_not_below_high": "下限（{low}）必须小于上限（{high}）",
  "err.domain_order": "每个区间都必须满足 下限 < 上限",
  "err.typed_surface_params": "自定义曲面不接受参数",
  "err.descend_rows": "steps × runs = {value} 行，超过 {limit}：请减少步数或参赛者",
  "err.train_work": "steps × batch × parameters = {value}，超过 {limit}：请减少步数、减小批大小或缩小网络",
  "err.newton_params": "牛顿法需要完整的 Hessian：最多 {limit} 个参数，这个网络有 {value} 个",
  "err.start_dims": "在这个曲面上需要 {dims} 个坐标",
  "err.domain_dims": "需要 {dims} 个区间：表达式用到的变量是 {vars}",
  "err.expression": "无法解析：{message}",
  "vars.1": "x", "vars.2": "x 和 y",
  "err.code.internal": "实验出错了；请换一组设置", "err.code.no_lab": "请先选择一个实验",
  "err.code.bad_json": "消息不是有效的 JSON",
  "size.batch": "批大小已减到 {batch}（你选的是 {wanted}），以便深度 {depth} × 宽度 {width} 不超过 {limit} 个数值的上限。",
  "size.depth": "深度限制为 {value}：再多的层会超过 {limit} 个权重的上限。",
  "size.width": "宽度限制为 {value}：更宽的层会超过 {limit} 个权重的上限。",
  "size.input_dim": "输入维度限制为 {value}：再大会超过 {limit} 个权重的上限。",
  "g.network": "网络", "g.inputs": "输入", "g.units": "神经元", "g.init": "初始化",
  "g.tricks": "归一化等技巧", "g.run": "运行", "g.view": "视图", "g.export": "导出",
  "g.surface": "曲面", "g.runs": "参赛者", "g.data": "数据", "g.optimizer": "优化器", "g.params": "参数",
  "f.depth": "深度（层数）", "f.width": "宽度（每层单元数）", "f.input_dim": "输入维度",
  "f.batch": "批大小", "f.input": "输入分布", "input.normal": "正态 N(均值, 标准差²)",
  "input.uniform": "均匀 U(下限, 上限)", "f.mean": "均值", "f.std": "标准差", "f.low": "下限", "f.high": "上限",
  "f.activation": "激活函数", "f.init": "初始化方法", "f.scale": "初始化尺度（× 方法的标准差）",
  "f.bias": "偏置初值", "f.batchnorm": "批归一化", "bn.off": "关闭", "bn.train": "开启，用批统计量",
  "bn.eval": "开启，用固定统计量", "f.dropout_keep": "Dropout 保留概率 p", "f.dropout_mode": "Dropout 形式",
  "dropout.inverted": "反向（训练时 ÷p）", "dropout.classic": "经典（测试时 ×p）",
  "f.residual": "残差连接", "f.seed": "随机种子", new_seed: "换个种子", "f.bins": "直方图箱数",
  "view.quantity": "直方图显示", "q.activation": "激活值 h = f(z)", "q.preactivation": "预激活 z",
  "q.derivative": "局部导数 f′(z)", "q.gradient": "上游梯度 ∂L/∂h",
  "q.weight_gradient": "权重梯度 ∂L/∂W", "view.logy": "矩用对数坐标",
  "export.csv": "CSV", "export.json": "JSON", "export.numpy": "用 NumPy 复现",
  "layers.loss": "反向传播使用 L = ½‖h_L‖²/N，因此 ∂L/∂h_L = h_L/N。",
  "p.alpha": "α", "p.k": "分段数 k",
  "c.histograms": "各层直方图", "c.moments": "各层均值与标准差",
  "c.health": "饱和、死亡与零值", "c.gradnorm": "各层权重梯度范数",
  "axis.log10": "log₁₀|值|", "axis.layer": "层", "axis.share": "占比", "axis.step": "步数",
  "axis.distance": "‖θ − θ*‖", "axis.efflr": "有效学习率",
  "hist.panel": "每个小图的范围", "hist.log": "数量级用对数轴", "hist.linear": "固定分箱；‹ › 表示落在范围外的比例",
  "m.act_std": "h 的标准差", "m.pre_std": "z 的标准差", "m.act_mean": "h 的均值", "m.theory": "理论 √Var(z)",
  "m.theory_clipped": "理论曲线超出图表：第 {layer} 层达到 {value}",
  "hist.count": "{total} 个中的 {count} 个", "hist.value": "取值", "hist.magnitude": "数量级 |值|（对数轴）",
  "h.saturated": "饱和", "h.dead": "死亡单元（占比）", "h.zero": "每个样本的零值比例",
  "h.dead.pending": "死亡单元：随完整帧给出", "layers.preview": "预览 · {batch} 个样本中的前 {samples} 个",
  "h.dead_units": "死亡单元数", target: "目标",
  "h.zero.hint": "每个样本的零值比例：某层 (样本, 单元) 激活值 h 恰好为 0 的比例，即对该样本处于关闭状态的 ReLU（He 初始化下约 50% 是正常的）。死亡单元对每个样本都为 0。σ、tanh 和平滑单元从不为 0：它们出现的精确 0 是浮点下溢，会在下方标出。",
  "f.dtype": "精度", "dtype.float32": "float32（GPU 训练所用）", "dtype.float64": "float64（双精度）",
  "dtype.hint": "float32 能表示的最小量级是 1.4·10⁻⁴⁵，更小的值会变成精确的 0。float64 可到 4.9·10⁻³²⁴（但更慢）。",
  "flag.underflow": "第 {layers} 层：{q} 在 {dtype} 中全部恰好为 0。它发生了下溢：真实值小于 {dtype} 能表示的最小数（{tiny}）。把精度切换到 float64 即可看到它们。",
  "flag.underflow_some": "第 {layers} 层：在 {dtype} 中最多有 {share}% 的激活值恰好为 0，而 {act} 从不为 0：它们发生了下溢（小于 {tiny}）。",
  "flag.logaxis": "对数轴无法显示 0，所以这些层在此图中没有可画的内容。", no_target: "没有简单目标值", "h.rule": "饱和指",
  "live.layers": "共 {n} 层：第 1 层激活标准差 {first}，最后一层 {last}；最后一层饱和比例 {sat}%。",
  "f.surface": "曲面", "surface.custom": "自己输入…", "f.expr": "f(x, y) =", "f.domain": "定义域 [[x₀, x₁], [y₀, y₁]]",
  "f.expr1": "f(x) =", "f.domain1": "定义域 [[x₀, x₁]]",
  "domain.bad1": "这个表达式只用到 x：请给出一个区间，如 [[-5, 5]]（或留空）。",
  "domain.bad2": "这个表达式用到 x 和 y：请给出两个区间，如 [[-5, 5], [-5, 5]]（或留空）。",
  apply: "应用", "expr.help": "可使用 x、y、数字、+ − * / ** ^、括号、pi、e 以及",
  "f.steps": "步数", "f.steps_per_frame": "每帧步数", "run.add": "添加参赛者",
  "view.logz": "等高线用对数", "view.surface3d": "三维曲面",
  click_start: "点击等高线图可移动所有参赛者的起点。",
  "sp.condition": "条件数", "sp.rotation": "旋转角（°）", "sp.a": "a", "sp.b": "b",
  "f.optimizer": "优化器", "run.remove": "移除", "run.select": "显示", "f.lr": "学习率",
  "f.lr_newton": "步长缩放 lr（1 = 完整的牛顿步）",
  "run.more": "更多超参数", "f.momentum": "动量 ρ", "f.rho": "衰减率 ρ", "f.beta1": "β₁（一阶矩）",
  "f.beta2": "β₂（二阶矩）", "f.eps": "ε", "f.weight_decay": "权重衰减", "f.bias_correction": "偏差修正",
  "f.initial_accumulator": "累加器初值", "f.schedule": "学习率调度", "sched.constant": "常数",
  "sched.inv_sqrt": "1/√(t+1)", "sched.step": "阶梯", "sched.exponential": "指数", "sched.cosine": "余弦",
  "f.noise": "梯度噪声 σ", "f.clip_norm": "裁剪范数（留空：关闭）",
  "c.surface": "曲面上的路径", "c.loss": "损失", "c.distance": "到最近极小点的距离",
  "c.efflr": "有效学习率（按坐标）", "c.equation": "更新公式与实时数值",
  "distance.none": "这个曲面没有极小点：没有距离可显示。",
  "loss.floor": "机器精度", "loss.floor_hint": "低于此线时，f − f* 只是 float64 舍入误差",
  "loss.floor_hint_distance": "低于此线时，‖θ − θ*‖ 只是 float64 舍入误差",
  "c.surface3d": "三维曲面", "kind.minimum": "极小", "kind.maximum": "极大", "kind.saddle": "鞍点",
  "kind.degenerate": "退化", "live.step": "第", "status.running": "运行中", "status.converged": "已收敛",
  "status.diverged": "已发散", start: "起点", critical: "临界点", step: "步",
  "f.dataset": "数据集", "ds.circle": "圆形", "ds.xor": "异或", "ds.gaussians": "两个高斯团",
  "ds.spiral": "螺旋", "ds.moons": "双月", "ds.linear": "线性", "ds.logic": "逻辑门（4 个点）",
  "f.gate": "逻辑门", "f.data_noise": "噪声", "f.n_samples": "样本数", "f.train_share": "训练集比例", "f.hidden": "隐藏层宽度（如 8, 8）",
  "hidden.bad": "请输入最多 12 个 1 到 1000 之间的整数，用逗号分隔。",
  "f.batchnorm_on": "批归一化", "f.l1": "L1 λ₁", "f.l2": "L2 λ₂", "f.batch_size": "批大小",
  "c.boundary": "决策边界", "c.train_loss": "损失与准确率", "c.dead": "各层死亡单元",
  "c.distribution": "激活分布随步数的变化", "c.train_grad": "梯度范数与更新/权重比",
  "c.weights": "第一隐藏层各单元的输入权重", "view.layer": "层",
  "live.train": "第 {step} 步：损失 {loss}，测试准确率 {acc}%，死亡单元 {dead} 个。",
  diverged: "已发散", blowup: "损失爆炸",
  "blowup.loss": "损失在第 {step} 步飙升到 {peak}，是起始值（{start}）的 {times} 倍。",
  "blowup.ratio": "每次更新的大小是权重的 {ratio} 倍（‖Δθ‖/‖θ‖；健康时约为 0.001）。",
  "blowup.saturated": "第 {layer} 层有 {share}% 的单元饱和（f′ ≈ 0：它们不再学习）。",
  "blowup.dead": "第 {layer} 层有 {share}% 的单元死亡（对每个输入都为 0）。",
  "blowup.try": "学习率（{lr}）对这个网络来说太高了：试试 {lower}。权重仍是有限值，所以训练继续进行。",
  train_set: "训练点", test_set: "测试点", accuracy: "准确率",
  params: "个参数", train_loss: "训练损失", test_loss: "测试损失", loss: "损失", unit: "单元",
  "weights.axis": "w", "weights.sub": "实线：来自 x₁ · 虚线：来自 x₂",
  "f.range": "x 范围 ±", "view.derivative": "显示 f′（虚线）", "view.relusum": "ReLU 之和 max(0, x+1) − max(0, x−1)",
  "c.gallery": "激活函数及其导数",
  "gallery.shade": "阴影：饱和型单元的平坦区（|f′| < 0.01）。",
  "gp.leaky_relu.alpha": "leaky_relu α", "gp.prelu.alpha": "prelu α", "gp.elu.alpha": "elu α", "gp.maxout.k": "maxout 分段数 k",
  play: "播放", pause: "暂停", "step.btn": "单步", reset: "重置",
  "state.running": "运行中", "state.paused": "已暂停", "state.diverged": "已发散", "state.finished": "已完成",
  "keys.hint": "快捷键：空格 播放/暂停，→ 单步，r 重置；PageDown / PageUp（或 n / p）：下一个 / 上一个预设。",
  "walk.preset": "预设 {n}/{total}", "walk.first": "已经是第一个预设。",
  "walk.last": "已经是最后一个预设。",
  "welcome.title": "欢迎使用 DeepScope",
  "welcome.layers": "在上方选一个课程预设，或者拖动初始化尺度、观察直方图：每一层的分布是在收缩、保持还是爆炸？",
  "welcome.descend": "在上方选一个课程预设，或者按“播放”看各优化器赛跑；点击等高线图可移动起点。",
  "welcome.train": "在上方选一个课程预设，或者按“播放”看决策边界逐步形成；再试试大得多的学习率。",
  "welcome.gallery": "勾选激活函数，查看它和它的导数；阴影区域是它饱和的地方。",
  "welcome.keys": "PageDown / PageUp（或 n / p）逐个浏览预设。",
  "compare.toggle": "对比两种配置", "compare.edit": "编辑", "compare.group": "对比（A | B）",
  "compare.hint": "B 起初是 A 的副本。下方控件编辑这里选中的一侧；A 画实线，B 画虚线。",
  "compare.hint.train": "B 起初是 A 的副本。下方控件编辑这里选中的一侧；任何改动都会让两次训练一起重新开始，保持步数一致。A 画实线，B 画虚线。",
  "side.a": "A", "side.b": "B",
  // training lab: own data
  "ds.uploaded": "自己的数据（CSV）", "own.group": "自己的数据",
  "own.drop": "把 CSV 文件拖到这里（每行 x, y, 标签；表头可有可无），或者选择一个：",
  "own.choose": "选择 CSV 文件", "own.paste": "……或者粘贴 CSV 文本", "own.use": "使用粘贴的数据",
  "own.standardize": "标准化（零均值、单位方差）", "own.export": "导出数据（CSV）",
  "own.reading": "正在读取数据……",
  "own.limits": "最多 {rows} 行、{kb} kB；标签为 0/1、−1/1 或两个类别名。",
  "own.info": "{rows} 个点 · 类别 0：{zero}（{n0}）· 类别 1：{one}（{n1}）· x = {x}，y = {y}",
  "own.link": "复制的链接只保存这份数据的指纹（{id}），不含数据本身：打开链接的人需要提供这个文件。",
  "own.missing": "这个链接用的是自己的数据（指纹 {id}）。数据不在链接里：请选择、拖入或粘贴那个 CSV 文件后继续。",
  "own.other": "这不是生成链接时用的文件（指纹 {id}）；现在使用的是这个文件的点。",
  "own.none": "选择、拖入或粘贴一个 CSV 文件，用自己的点来训练。",
  "err.upload_empty": "文件里没有数据行",
  "err.upload_bytes": "文件有 {value} 字节；上限是 {limit}",
  "err.upload_binary": "第 {row} 行：这不是文本文件（含有 CSV 中不会出现的字节）",
  "err.upload_line": "第 {row} 行：这一行有 {value} 个字符；上限是 {limit}",
  "err.upload_rows": "第 {row} 行：数据超过 {limit} 行",
  "err.upload_columns": "第 {row} 行：有 {value} 列；一个点需要 3 列（x, y, 标签）",
  "err.upload_number": "第 {row} 行第 {column} 列：{name} 是“{value}”，不是数字",
  "err.upload_nonfinite": "第 {row} 行第 {column} 列：{name} 不是有限数（NaN 和无穷大不能作为点）",
  "err.upload_range": "第 {row} 行第 {column} 列：{name} 超出了 ±{limit}",
  "err.upload_classes": "第 {row} 行第 {column} 列：出现了第三个标签 {value}（另两个是 {first} 和 {second}）：标签必须是二分类",
  "err.upload_one_class": "所有点的标签都是 {value}：分类器需要两个类别",
  "err.upload_label": "第 {row} 行第 {column} 列：{name} 必须是类别名或数字",
  "err.upload_few_rows": "只有 {value} 行数据；至少需要 {limit} 行",
  "err.upload_csv": "第 {row} 行：不是有效的 CSV（引号没有闭合？）",
  "err.upload_source": "请给出 csv（文件文本）或 points 之一",
  "err.dataset_unknown": "服务器上没有上传的数据集 {id}（上传的数据随会话结束而清除）：请重新上传文件",
};

const CATALOG = { en: EN, zh: ZH };
let lang = "en";

// The server's catalog (activation and surface notes, optimizer and surface titles,
// the variance-law note) is written in English; its 简体中文 lives here, keyed by the
// English text itself (as gettext does). A {slot} stands for a part that varies.
const ZH_TEXT = {
  // activations
  "A deep linear net is still a linear map: straight decision boundaries.": "深层线性网络仍是一个线性映射：决策边界是直线。",
  "σ′ peaks at 0.25, so gradients shrink ≥ 4× per layer.": "σ′ 的最大值是 0.25，所以梯度每过一层至少缩小 4 倍。",
  "Flat outside [−5, 5]; outputs are never zero-centred.": "在 [−5, 5] 之外几乎是平的；输出从不以零为中心。",
  "Zero-centred, but saturates at ±1 where tanh′ ≈ 0.": "以零为中心，但在 ±1 处饱和，那里 tanh′ ≈ 0。",
  "Does not saturate for z > 0; a unit that is 0 for every input is dead.": "z > 0 时不饱和；对每个输入都输出 0 的单元是死亡单元。",
  "ReLU′(0) = 0.": "ReLU′(0) = 0。",
  "A small slope for z < 0: never dies.": "z < 0 时保留一个小斜率：不会死亡。",
  "Leaky ReLU whose slope α is a parameter of each layer.": "斜率 α 是每层参数的 Leaky ReLU。",
  "Saturates softly to −α for z ≪ 0; outputs closer to zero-mean.": "z ≪ 0 时平缓地饱和到 −α；输出更接近零均值。",
  "Self-normalising with LeCun-normal init.": "配合 LeCun 正态初始化时自归一化。",
  "The exact erf form, not the tanh approximation.": "精确的 erf 形式，不是 tanh 近似。",
  "Also called swish.": "又称 swish。",
  "A smooth ReLU; its derivative is σ(z).": "平滑的 ReLU；其导数是 σ(z)。",
  "Generalises ReLU and leaky ReLU; no saturation, no death; k× the weights.": "推广了 ReLU 和 leaky ReLU；不饱和、不会死亡；权重是 k 倍。",
  "The gallery draws k lines tangent to softplus.": "图中画出与 softplus 相切的 k 条直线。",
  // optimizers
  "gradient descent": "梯度下降", "momentum": "动量法", "Nesterov momentum": "Nesterov 动量",
  "Newton's method": "牛顿法",
  "Same iterates as v ← ρv − lr·g; θ ← θ + v at constant lr.": "学习率不变时，与 v ← ρv − lr·g；θ ← θ + v 的迭代相同。",
  "The gradient is taken at the look-ahead point θ − lr·ρ·v (the slide's '+' is a sign error).": "梯度在前瞻点 θ − lr·ρ·v 处计算（幻灯片上的“+”是符号错误）。",
  "G only grows, so the effective step lr/(√G + ε) decays toward 0.": "G 只增不减，所以有效步长 lr/(√G + ε) 逐渐衰减到 0。",
  "A leaky average of g²: the effective step levels off instead of dying.": "g² 的滑动平均：有效步长趋于平稳，而不是衰减到零。",
  "No learning rate in the original (lr = 1); ε sits inside the roots.": "原始算法没有学习率（lr = 1）；ε 在根号之内。",
  "Momentum + RMSProp + bias correction.": "动量 + RMSProp + 偏差修正。",
  "Without bias correction the first step is (1 − β1)/√(1 − β2) ≈ 3.16 × lr.": "不做偏差修正时，第一步是 (1 − β1)/√(1 − β2) ≈ 3.16 × lr。",
  "Adam with a Nesterov-style look-ahead folded into the first moment.": "把 Nesterov 式前瞻并入一阶矩的 Adam。",
  "On a quadratic, one step with lr = 1 lands on the minimum.": "在二次函数上，lr = 1 的一步就落在最小值上。",
  "H⁻¹ is the pseudo-inverse; near a saddle Newton walks toward it, not away.": "H⁻¹ 取伪逆；在鞍点附近，牛顿法会走向鞍点，而不是远离它。",
  "lr scales the Newton step (damped Newton); lr = 1 is the pure step.": "lr 缩放牛顿步长（阻尼牛顿法）；lr = 1 即纯牛顿步。",
  // surfaces
  "quadratic bowl": "二次碗形", "six-hump camel": "六峰驼背函数", "monkey saddle": "猴鞍面", "plateau": "平台",
  "Minimum at x = 5, f(5) = −24, f″ = 2: GD is x ← (1 − 2γ)x + 10γ.": "最小值在 x = 5，f(5) = −24，f″ = 2：梯度下降为 x ← (1 − 2γ)x + 10γ。",
  "lr 0.5 lands on 5 in one step; lr 1 oscillates forever; lr > 1 diverges.": "lr 0.5 一步落到 5；lr 1 永远振荡；lr > 1 发散。",
  "The only minimum is x* ≈ 37.5; near 0 the curve is flat but is no minimum.": "唯一的最小值是 x* ≈ 37.5；0 附近曲线很平，但那里不是最小值。",
  "From −20: lr 1e-5 crawls along the shoulder, 3e-4 converges, 4e-4 ends in a 2-cycle around x*.": "从 −20 出发：lr 1e-5 沿肩部缓慢爬行，3e-4 收敛，4e-4 最终在 x* 附近做 2-周期振荡。",
  "From 20: lr 0.5 gives x₁ = 0 (f′ = 40); lr 0.25 gives 20, 10, 5, 2.5.": "从 20 出发：lr 0.5 得到 x₁ = 0（f′ = 40）；lr 0.25 得到 20, 10, 5, 2.5。",
  "lr 0.1 from (−9, 6): ∇f = (−28, 12), x₁ = (−6.2, 4.8), ∇f(x₁) = (−22.4, 9.6).": "lr 0.1，从 (−9, 6) 出发：∇f = (−28, 12)，x₁ = (−6.2, 4.8)，∇f(x₁) = (−22.4, 9.6)。",
  "From (−8, 5), f = 31.4: lr 0.9 zig-zags but converges, lr 0.5 zeroes x₂ in one step, lr 1 oscillates in x₂ forever.": "从 (−8, 5) 出发，f = 31.4：lr 0.9 之字形前进但收敛，lr 0.5 一步把 x₂ 归零，lr 1 在 x₂ 方向永远振荡。",
  "Started exactly on x₁ = 0, GD slides into the saddle and stops; started 0.001 off, it escapes.": "恰好从 x₁ = 0 出发，梯度下降滑进鞍点并停住；偏离 0.001 出发，它就能逃出。",
  "Critical points (0, 0.25), (−2, 0.375), (2, −0.625) with f = 0, 2, 6: all saddles (the slide's (−2, 0.125) is wrong).": "临界点 (0, 0.25)、(−2, 0.375)、(2, −0.625)，f = 0, 2, 6：全是鞍点（幻灯片上的 (−2, 0.125) 是错的）。",
  "Curvatures 1 and the condition number; GD's largest stable lr is 2/condition.": "曲率为 1 和条件数；梯度下降的最大稳定学习率是 2/条件数。",
  "A curved, flat-bottomed valley: easy to find, hard to follow to (a, a²).": "一条弯曲、底部平坦的山谷：容易找到，却难以沿它走到 (a, a²)。",
  "Global minimum (3, 0.5); steep walls, flat plateaus: learning rates matter.": "全局最小值 (3, 0.5)；陡峭的壁、平坦的高原：学习率很关键。",
  "Four equal minima: where you end up depends on where you start.": "四个相等的最小值：最终停在哪里取决于从哪里出发。",
  "A plain quadratic with minimum (1, 3): Newton lands on it in one step.": "普通的二次函数，最小值 (1, 3)：牛顿法一步到达。",
  "Six local minima, two of them global at ±(0.0898, −0.7126).": "六个局部最小值，其中两个是全局最小值，位于 ±(0.0898, −0.7126)。",
  "A local minimum near every integer point; the global one is (0, 0).": "每个整数点附近都有一个局部最小值；全局最小值是 (0, 0)。",
  "A nearly flat outer region full of dimples around a deep central funnel.": "外围几乎平坦、布满小凹坑，中央是一个很深的漏斗。",
  "Nine critical points: four minima, four saddles, one maximum.": "九个临界点：四个极小、四个鞍点、一个极大。",
  "A degenerate critical point at (0, 0): the Hessian is zero there.": "(0, 0) 是退化临界点：那里的 Hessian 为零。",
  "Almost flat far from the well: GD crawls, adaptive methods rescale the tiny gradient and move.": "远离井口处几乎平坦：梯度下降缓慢爬行，自适应方法放大微小的梯度而继续前进。",
  // the variance law of the layers lab
  "linear regime: Var(z_k) = n·Var(w)·g·Var(z_{k−1}); exact only while f ≈ linear": "线性区：Var(z_k) = n·Var(w)·g·Var(z_{k−1})；仅当 f 近似线性时精确",
  "batch norm: Var(z) = γ² at every layer": "批归一化：每层 Var(z) = γ²",
  "no simple variance law for {name}": "{name} 没有简单的方差规律",
  "no simple variance law with skip connections": "有跳跃连接时没有简单的方差规律",
  "the variance law assumes zero bias": "方差规律假设偏置为零",
  "constant weights are not zero-mean": "常数权重的均值不为零",
  // the training lab's divergence
  "{what} overflowed at step {step}: the learning rate ({lr}) is too high for this network":
    "{what}在第 {step} 步溢出：学习率（{lr}）对这个网络来说太高了",
  "the loss": "损失", "the weights": "权重",
};

// Entries with {slots} in them are patterns, tried when no entry matches a text
// exactly; what a slot stands for is translated too when it can be.
const escapeRe = (text) => text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
const ZH_PATTERNS = Object.entries(ZH_TEXT).filter(([en]) => /\{\w+\}/.test(en)).map(([en, zh]) => [
  new RegExp(`^${escapeRe(en).replace(/\\\{(\w+)\\\}/g, "(.+?)")}$`),
  [...en.matchAll(/\{(\w+)\}/g)].map((m) => m[1]),
  zh,
]);

function translateOne(text) {
  if (ZH_TEXT[text] !== undefined) return ZH_TEXT[text];
  for (const [re, names, zh] of ZH_PATTERNS) {
    const m = re.exec(text);
    if (m) {
      return zh.replace(/\{(\w+)\}/g, (_, name) => {
        const value = m[1 + names.indexOf(name)];
        return ZH_TEXT[value] ?? value;
      });
    }
  }
  return null;
}

const SENTENCE = /(?<=\.) (?=\S)/;

// A text from the server's catalog in the current language: English as sent, or
// its translation (whole, else sentence by sentence; an untranslated sentence
// stays English).
export function tx(text) {
  if (lang === "en" || !text) return text;
  const whole = translateOne(text);
  if (whole !== null) return whole;
  return text.split(SENTENCE).map((s) => translateOne(s) ?? s)
    .reduce((out, s) => (out === "" || out.endsWith("。") ? out + s : `${out} ${s}`), "");
}

// Which catalog texts have no translation (for the tests).
export function untranslated(texts) {
  return texts.filter((text) => {
    if (!text) return false;
    if (translateOne(text) !== null) return false;
    return text.split(SENTENCE).some((s) => translateOne(s) === null);
  });
}

export function setLang(value) {
  lang = value === "zh" ? "zh" : "en";
  document.documentElement.lang = lang === "zh" ? "zh-CN" : "en";
}

export function getLang() {
  return lang;
}

export function t(key, vars = null) {
  let text = CATALOG[lang][key] ?? EN[key];
  if (text === undefined) {
    // Registry names (activations…) read the same in both languages.
    const parts = key.split(".");
    text = parts[parts.length - 1];
  }
  if (vars) text = text.replace(/\{(\w+)\}/g, (_, name) => String(vars[name] ?? ""));
  return text;
}

// A number as the error messages quote it: 10,000,000 rather than 10000000.
const quoted = (v) => (typeof v === "number" && Number.isInteger(v) && Math.abs(v) >= 10000 ? v.toLocaleString("en-US") : String(v));

// One line for a server error — an ``error`` message or a REST error body — in the
// current language: each problem's field, then its code worded from the catalog with
// the server's numbers; a code the catalog does not know keeps the server's English.
export function errorText(error) {
  const problems = error?.problems || [];
  if (!problems.length) {
    const key = `err.code.${error?.code}`;
    return lang !== "en" && CATALOG[lang][key] ? CATALOG[lang][key] : (error?.message ?? error?.error ?? "");
  }
  return problems.map((p) => {
    const field = p.field.replace(/^config\./, "");
    const key = `err.${p.code}`;
    if (EN[key] === undefined) return `${field}: ${p.message}`;
    const vars = Object.fromEntries(Object.entries(p.params || {}).map(([k, v]) => [k, quoted(v)]));
    vars.message = p.message;
    if (p.code === "domain_dims") vars.vars = t(`vars.${p.params.dims}`);
    return `${field}: ${t(key, vars)}`;
  }).join(lang === "zh" ? "；" : "; ");
}

export function apply(root = document) {
  for (const node of root.querySelectorAll("[data-i18n]")) node.textContent = t(node.dataset.i18n);
  for (const node of root.querySelectorAll("[data-tx]")) node.textContent = tx(node.dataset.tx);
}

export const strings = CATALOG;
