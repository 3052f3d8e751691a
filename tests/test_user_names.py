"""User names in Chinese (issue 23 §6): letters of any script, digits and _ . @ -; NFKC-normalised, so a name
typed in full width is the ASCII one; a name differing only in case or width from a user's is refused."""
from __future__ import annotations

import pytest
from sqlalchemy import create_engine

from cadre_policy.accounts.users import AccountError, Accounts
from cadre_policy.i18n import using
from conftest import invoke

PASSWORD = "pass-word-1"


@pytest.fixture
def accounts(sqlite_url):
    from cadre_policy.store.fact_store import FactStore
    FactStore(sqlite_url).close()                   # the store's tables first, as the CLI and server have them
    return Accounts(create_engine(sqlite_url))


def test_names_in_any_script(accounts):
    for name in ("张三", "欧阳小明", "zhang.san@qj", "Ахмед", "li-4_x"):
        assert accounts.add(name, PASSWORD, "viewer").name == name
    assert accounts.authenticate("张三", PASSWORD)[0].name == "张三"
    assert accounts.add("ｗａｎｇ５", PASSWORD, "viewer").name == "wang5"          # full width: kept as ASCII
    assert accounts.authenticate("ｗａｎｇ５", PASSWORD)[0].name == "wang5"          # and found as typed
    assert accounts.get("wang5") is not None and accounts.authenticate("wang5", "wrong-pass") is None


@pytest.mark.parametrize("name", ["张 三", "张\u3000三", "张\t三", "a\u200bb", "", "x" * 65, "张三!", "\u0301a"])
def test_bad_names_are_refused_in_chinese(accounts, name):
    with using("zh"), pytest.raises(AccountError, match="用户名.*无效"):
        accounts.add(name, PASSWORD, "viewer")


def test_names_alike_are_refused(accounts):
    accounts.add("Admin", PASSWORD, "admin")
    with using("zh"):
        with pytest.raises(AccountError, match="仅大小写或全角半角不同"):
            accounts.add("admin", PASSWORD, "viewer")
        with pytest.raises(AccountError, match="仅大小写或全角半角不同"):
            accounts.add("ＡＤＭＩＮ", PASSWORD, "viewer")
        with pytest.raises(AccountError, match="已存在"):
            accounts.add("Ａdmin", PASSWORD, "viewer")
    assert [a.name for a in accounts.list()] == ["Admin"]


def test_the_command_line_takes_chinese_names(sample_db):
    env = {"POLICY_PASSWORD": PASSWORD}
    from click.testing import CliRunner
    from cadre_policy.cli import main
    added = CliRunner().invoke(main, ["--lang", "zh", "--db", sample_db, "users", "add", "李四", "--role", "author",
                                      "--unit", "QJ-PC"], env=env)
    assert added.exit_code == 0 and "已添加用户 李四（author；单位：QJ-PC）" in added.output
    assert "李四\tauthor\tQJ-PC" in invoke(sample_db, "users", "list").output
    refused = CliRunner().invoke(main, ["--lang", "zh", "--db", sample_db, "users", "add", "李 四"], env=env)
    assert refused.exit_code == 2 and "用户名“李 四”无效" in refused.output and "Traceback" not in refused.output
    assert "已删除用户 李四" in invoke(sample_db, "--lang", "zh", "users", "remove", "李四").output
