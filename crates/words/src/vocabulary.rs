//! The domain's words by code: what a category, a status or a tag is called, for whoever renders
//! a code (the console, the ledgers, the phone's labels of the model's enums).

use crate::Lang;

/// Which list a code belongs to (the same code, `other` or `visit`, means different things in
/// different lists).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Vocabulary {
    IssueStatus,
    IssueAction,
    IssueCategory,
    Severity,
    IssueSource,
    OrderStatus,
    OrderAction,
    OrderKind,
    OrderSource,
    Satisfaction,
    VisitKind,
    VisitOutcome,
    HouseholdTag,
    Role,
    GeoVerdict,
    CallupAnswer,
    CommitmentStatus,
    /// Where a message of the server's outbox stands.
    MessageState,
    /// What a message of the outbox is about (the rule that sent it).
    Notice,
}

type Entry = (&'static str, &'static str, &'static str);

const ISSUE_STATUS: &[Entry] = &[
    ("reported", "已上报", "Reported"),
    ("accepted", "已受理", "Accepted"),
    ("assigned", "已派单", "Assigned"),
    ("in_progress", "处理中", "In progress"),
    ("escalated", "已上报部门", "Escalated"),
    ("resolved", "已办结待核查", "Resolved, awaiting check"),
    (
        "resolved_on_spot",
        "现场解决待核查",
        "Handled on the spot, awaiting check",
    ),
    ("closed", "已销号", "Closed"),
    ("reopened", "已重新打开", "Reopened"),
    ("rejected_duplicate", "重复件", "Duplicate"),
];
const ISSUE_ACTION: &[Entry] = &[
    ("comment", "留言", "Comment"),
    ("accept", "受理", "Accept"),
    ("assign", "派单", "Assign"),
    ("start", "开始处理", "Start"),
    ("resolve", "办结", "Resolve"),
    ("close", "核查销号", "Verify and close"),
    ("reopen", "重新打开", "Reopen"),
    ("escalate", "上报部门", "Send to a department"),
    ("reject_duplicate", "判为重复", "Reject as duplicate"),
    ("resolve_on_spot", "现场解决", "Handled on the spot"),
    ("rate", "居民评价", "Rated by the resident"),
    ("send_back", "不满意退回", "Sent back as unsatisfactory"),
];
const ISSUE_CATEGORY: &[Entry] = &[
    ("fire_safety", "消防安全", "Fire safety"),
    ("sanitation", "环境卫生", "Sanitation"),
    ("broken_facility", "设施损坏", "Broken facility"),
    ("dispute", "矛盾纠纷", "Dispute"),
    ("noise", "噪音扰民", "Noise"),
    ("illegal_construction", "违章搭建", "Illegal construction"),
    ("resident_need", "群众诉求", "Resident need"),
    ("pollution", "环境污染", "Pollution"),
    ("other", "其他", "Other"),
];
const SEVERITY: &[Entry] = &[
    ("low", "一般", "Low"),
    ("medium", "较急", "Medium"),
    ("high", "紧急", "High"),
];
const ISSUE_SOURCE: &[Entry] = &[
    ("visit", "入户走访", "Door-to-door visit"),
    ("patrol", "巡查", "Patrol"),
    ("building_leader", "楼栋长上报", "Building leader"),
    ("resident_order", "群众点单", "Resident request"),
    ("party_member", "党员发现", "Party member"),
    ("resident", "居民自报", "Reported by a resident"),
];
const ORDER_STATUS: &[Entry] = &[
    ("posted", "待派单", "Waiting for dispatch"),
    ("dispatched", "待接单", "Waiting to be taken"),
    ("taken", "办理中", "In hand"),
    ("done", "已办结待回访", "Done, awaiting feedback"),
    ("confirmed", "已回访", "Feedback recorded"),
    ("cancelled", "已撤单", "Cancelled"),
];
const ORDER_ACTION: &[Entry] = &[
    ("comment", "留言", "Comment"),
    ("dispatch", "派单", "Dispatch"),
    ("take", "接单", "Take"),
    ("release", "退回", "Give back"),
    ("done", "办结", "Done"),
    ("confirm", "记录回访", "Record feedback"),
    ("cancel", "撤单", "Cancel"),
];
const ORDER_KIND: &[Entry] = &[
    ("wish", "微心愿", "Small wish"),
    ("errand", "代办", "Errand"),
    ("assistance", "帮扶", "Help at home"),
    ("repair", "维修", "Repair"),
    ("other", "其他", "Other"),
];
const ORDER_SOURCE: &[Entry] = &[
    ("visit", "入户走访", "Door-to-door visit"),
    ("phone", "电话", "Phone"),
    ("desk", "窗口", "At the desk"),
];
const SATISFACTION: &[Entry] = &[
    ("satisfied", "满意", "Satisfied"),
    ("basically_satisfied", "基本满意", "Mostly satisfied"),
    ("dissatisfied", "不满意", "Dissatisfied"),
];
const VISIT_KIND: &[Entry] = &[
    ("routine", "例行走访", "Routine visit"),
    ("care", "关爱探访", "Care visit"),
    ("proxy_service", "上门代办", "Errand for resident"),
    ("follow_up", "问题回访", "Follow-up"),
    ("patrol", "巡查", "Patrol"),
];
const VISIT_OUTCOME: &[Entry] = &[
    ("met", "见面", "Met"),
    ("nobody_home", "无人在家", "Nobody home"),
    ("refused", "拒绝", "Refused"),
];
const HOUSEHOLD_TAG: &[Entry] = &[
    ("elderly_alone", "独居老人", "Elderly living alone"),
    ("low_income", "低保户", "Low income"),
    ("disabled", "残疾人", "Disabled"),
    ("left_behind_child", "留守儿童", "Left-behind child"),
    ("veteran", "退役军人", "Veteran"),
    ("serious_illness", "大病", "Serious illness"),
    ("rental", "出租户", "Rental"),
    ("vacant", "空置户", "Vacant"),
    ("party_member", "党员户", "Party member household"),
];
const ROLE: &[Entry] = &[
    ("grid_worker", "专职网格员", "Grid worker"),
    ("grid_leader", "网格长", "Grid leader"),
    ("building_leader", "楼栋长", "Building leader"),
    ("party_member", "报到党员", "Party member"),
    ("community_admin", "社区管理员", "Community admin"),
    ("street_viewer", "街道查看", "Street viewer"),
    ("resident", "居民", "Resident"),
];
const GEO_VERDICT: &[Entry] = &[
    ("inside", "网格内", "Inside the grid"),
    ("outside", "网格外", "Outside the grid"),
    ("uncertain", "无法判定", "Cannot tell"),
];
const CALLUP_ANSWER: &[Entry] = &[
    ("coming", "马上到", "Coming"),
    ("cannot", "无法到场", "Cannot come"),
    ("arrived", "已到达", "Arrived"),
];
const COMMITMENT_STATUS: &[Entry] = &[
    ("promised", "践诺中", "Under way"),
    ("fulfilled", "已践诺", "Kept"),
    ("dropped", "已放弃", "Dropped"),
];
const MESSAGE_STATE: &[Entry] = &[
    ("queued", "待发送", "Queued"),
    ("sending", "发送中", "Sending"),
    ("sent", "已发送", "Sent"),
    ("delivered", "已送达", "Delivered"),
    ("failed", "发送失败", "Failed"),
    ("skipped", "未发送", "Not sent"),
];
const NOTICE: &[Entry] = &[
    ("callup", "一键响应召集", "Call-up"),
    ("issue_assigned", "问题派单", "Issue assigned"),
    ("order_dispatched", "点单派单", "Request dispatched"),
    ("callup_recall", "召集未答复再通知", "Call-up, called again"),
    ("issue_overdue", "超时督办", "Issue overdue"),
    (
        "household_unseen",
        "重点户久未走访",
        "Vulnerable household unseen",
    ),
    ("leader_digest", "网格长每日提要", "Leader's daily digest"),
    ("resident_code", "居民登录验证码", "Resident's sign-in code"),
    (
        "resident_update",
        "居民诉求进展",
        "Resident's request moved",
    ),
];

impl Vocabulary {
    fn entries(self) -> &'static [Entry] {
        match self {
            Vocabulary::IssueStatus => ISSUE_STATUS,
            Vocabulary::IssueAction => ISSUE_ACTION,
            Vocabulary::IssueCategory => ISSUE_CATEGORY,
            Vocabulary::Severity => SEVERITY,
            Vocabulary::IssueSource => ISSUE_SOURCE,
            Vocabulary::OrderStatus => ORDER_STATUS,
            Vocabulary::OrderAction => ORDER_ACTION,
            Vocabulary::OrderKind => ORDER_KIND,
            Vocabulary::OrderSource => ORDER_SOURCE,
            Vocabulary::Satisfaction => SATISFACTION,
            Vocabulary::VisitKind => VISIT_KIND,
            Vocabulary::VisitOutcome => VISIT_OUTCOME,
            Vocabulary::HouseholdTag => HOUSEHOLD_TAG,
            Vocabulary::Role => ROLE,
            Vocabulary::GeoVerdict => GEO_VERDICT,
            Vocabulary::CallupAnswer => CALLUP_ANSWER,
            Vocabulary::CommitmentStatus => COMMITMENT_STATUS,
            Vocabulary::MessageState => MESSAGE_STATE,
            Vocabulary::Notice => NOTICE,
        }
    }

    /// The codes of this list, in display order.
    pub fn codes(self) -> impl Iterator<Item = &'static str> {
        self.entries().iter().map(|e| e.0)
    }

    /// The word for a code; an unknown code (from a newer server) is shown as it is.
    pub fn word(self, code: &str, lang: Lang) -> &str {
        self.entries()
            .iter()
            .find(|e| e.0 == code)
            .map_or(code, |e| match lang {
                Lang::Zh => e.1,
                Lang::En => e.2,
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use gridmate_model::*;

    /// Every code of every enum has its words, and no list names a code the enum lacks.
    #[test]
    fn each_list_names_exactly_its_enums_codes() {
        fn same(v: Vocabulary, codes: Vec<&'static str>) {
            let mut want = codes;
            let mut got: Vec<&str> = v.codes().collect();
            want.sort();
            got.sort();
            assert_eq!(got, want, "{v:?}");
            for c in v.codes() {
                assert_ne!(v.word(c, Lang::Zh), c, "{v:?} {c} has no zh word");
                assert_ne!(v.word(c, Lang::En), c, "{v:?} {c} has no en word");
            }
        }
        same(
            Vocabulary::IssueStatus,
            IssueStatus::ALL.iter().map(|c| c.code()).collect(),
        );
        same(
            Vocabulary::IssueAction,
            IssueAction::ALL.iter().map(|c| c.code()).collect(),
        );
        same(
            Vocabulary::IssueCategory,
            IssueCategory::ALL.iter().map(|c| c.code()).collect(),
        );
        same(
            Vocabulary::Severity,
            Severity::ALL.iter().map(|c| c.code()).collect(),
        );
        same(
            Vocabulary::IssueSource,
            IssueSource::ALL.iter().map(|c| c.code()).collect(),
        );
        same(
            Vocabulary::OrderStatus,
            OrderStatus::ALL.iter().map(|c| c.code()).collect(),
        );
        same(
            Vocabulary::OrderAction,
            OrderAction::ALL.iter().map(|c| c.code()).collect(),
        );
        same(
            Vocabulary::OrderKind,
            OrderKind::ALL.iter().map(|c| c.code()).collect(),
        );
        same(
            Vocabulary::OrderSource,
            OrderSource::ALL.iter().map(|c| c.code()).collect(),
        );
        same(
            Vocabulary::Satisfaction,
            Satisfaction::ALL.iter().map(|c| c.code()).collect(),
        );
        same(
            Vocabulary::VisitKind,
            VisitKind::ALL.iter().map(|c| c.code()).collect(),
        );
        same(
            Vocabulary::VisitOutcome,
            VisitOutcome::ALL.iter().map(|c| c.code()).collect(),
        );
        same(
            Vocabulary::HouseholdTag,
            HouseholdTag::ALL.iter().map(|c| c.code()).collect(),
        );
        same(
            Vocabulary::Role,
            Role::ALL.iter().map(|c| c.code()).collect(),
        );
        same(
            Vocabulary::GeoVerdict,
            vec![
                GeoVerdict::Inside.code(),
                GeoVerdict::Outside.code(),
                GeoVerdict::Uncertain.code(),
            ],
        );
        same(
            Vocabulary::CallupAnswer,
            CallupAnswer::ALL.iter().map(|c| c.code()).collect(),
        );
        same(
            Vocabulary::CommitmentStatus,
            CommitmentStatus::ALL.iter().map(|c| c.code()).collect(),
        );
    }

    #[test]
    fn an_unknown_code_shows_as_it_is() {
        assert_eq!(Vocabulary::IssueStatus.word("frozen", Lang::Zh), "frozen");
        assert_eq!(Vocabulary::IssueStatus.word("closed", Lang::Zh), "已销号");
        assert_eq!(Vocabulary::OrderKind.word("other", Lang::En), "Other");
    }
}
