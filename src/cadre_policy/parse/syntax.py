"""A YAML syntax error (PyYAML's context and problem, English) as a sentence in the reader's language.

PyYAML composes its messages from a few dozen phrases; in Chinese each phrase and each token it names
('<stream end>', '<block mapping start>') is said in Chinese, and a phrase not in the table becomes
one general sentence (the place, file:line:column, is given beside it either way).
"""
from __future__ import annotations

import re

from cadre_policy.i18n import language

_TOKENS = {"<stream end>": "文件结尾", "<stream start>": "文件开头", "<document start>": "文档开始（---）",
           "<document end>": "文档结束（...）", "<block end>": "块结束", "<block mapping start>": "映射开始",
           "<block sequence start>": "列表开始", "<block entry>": "列表项（-）", "<flow sequence start>": "[",
           "<flow sequence end>": "]", "<flow mapping start>": "{", "<flow mapping end>": "}",
           "<flow entry>": "逗号", "<key>": "键", "<value>": "值", "<scalar>": "标量", "<alias>": "别名",
           "<anchor>": "锚点", "<tag>": "标签", "<directive>": "指令"}
_CONTEXT = [(r"while parsing a (flow|block) (mapping|sequence|collection|node)", "解析{0}{1}时"),
            (r"while parsing a (node|tag)", "解析{0}时"), (r"while composing a mapping", "组成映射时"),
            (r"while scanning a simple key", "读取键时"), (r"while scanning an? (\w+(?:-quoted)?) scalar", "读取{0}标量时"),
            (r"while scanning a (quoted|block|plain) scalar", "读取{0}标量时"),
            (r"while scanning for the next token", "读取下一个记号时"), (r"while scanning an? (\w+)", "读取{0}时")]
_PROBLEM = [(r"could not find expected ':'", "缺少应有的冒号“:”"),
            (r"mapping values are not allowed here", "此处不能写键值（检查冒号后的空格与缩进）"),
            (r"mapping keys are not allowed here", "此处不能写键"),
            (r"expected the node content, but found (.+)", "应有内容，实际为 {0}"),
            (r"expected (.+?), but (?:found|got) (.+)", "应为 {0}，实际为 {1}"),
            (r"found character (.+) that cannot start any token", "字符 {0} 不能出现在此处（缩进请用空格，不用制表符）"),
            (r"found unexpected end of stream", "文件意外结束（引号或括号未闭合）"),
            (r"found undefined alias (.+)", "未定义的别名 {0}"), (r"found unknown escape character (.+)", "未知的转义字符 {0}"),
            (r"found duplicate anchor (.+?); first occurrence", "锚点 {0} 重复"), (r"found duplicate key", "键重复"),
            (r"found unexpected document separator", "意外的文档分隔符"),
            (r"expected a single document in the stream", "文件中只能有一个文档"),
            (r"special characters are not allowed", "不允许的特殊字符"),
            (r"unacceptable character (.+)", "不可接受的字符 {0}")]
_WORDS = {"flow": "流式", "block": "块式", "mapping": "映射", "sequence": "列表", "collection": "集合", "node": "节点",
          "tag": "标签", "double-quoted": "双引号", "single-quoted": "单引号", "quoted": "引号", "plain": "普通",
          "anchor": "锚点", "alias": "别名", "directive": "指令"}


def _say(text: str, table) -> str | None:
    for pattern, words in table:
        match = re.fullmatch(pattern, text.strip())
        if match:
            return words.format(*(_WORDS.get(g, _token(g)) for g in match.groups()))
    return None


def _token(text: str) -> str:
    bare = text.strip().strip("'\"")
    if bare in _TOKENS:
        return f"“{_TOKENS[bare]}”"
    return re.sub(r"<[a-z ]+>", lambda m: _TOKENS.get(m.group(0), "记号"), text)


def syntax_message(context: str | None, problem: str | None) -> str:
    """PyYAML's context and problem as one sentence: English as PyYAML says it, Chinese by the tables."""
    if language() == "en":
        return " ".join(x for x in (context, problem) if x)
    said = [_say(context, _CONTEXT) if context else "", _say(problem, _PROBLEM) if problem else ""]
    if (context and not said[0]) or (problem and not said[1]):
        return "括号、引号、冒号或缩进有误" + (f"（{said[1]}）" if said[1] else "")
    return "，".join(s for s in said if s)
