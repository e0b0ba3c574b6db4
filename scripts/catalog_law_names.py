"""Chinese names of the laws, regulations and documents the catalog's items cite (their
English `legal_basis`), for the service guides' 设定依据 (scripts/catalog_guides.py).

"Detailed Rules", "Detailed Rules for Implementation" and "Implementing Rules" name the
implementing rules of the law cited just before them (IMPLEMENTING_RULES)."""

IMPLEMENTING_RULES = ("Detailed Rules", "Detailed Rules for Implementation", "Implementing Rules")

LAW_NAMES_ZH = {
    "Administrative Measures for Export Tax Refunds (2022)": "出口退（免）税管理办法（2022）",
    "Advertising Law": "中华人民共和国广告法",
    "Basic Medical and Health Care Law": "中华人民共和国基本医疗卫生与健康促进法",
    "Bidding Law": "中华人民共和国招标投标法",
    "Civil Air Defence Law": "中华人民共和国人民防空法",
    "Civil Code": "中华人民共和国民法典",
    "Company Law (2023)": "中华人民共和国公司法（2023年修订）",
    "Compulsory Education Law": "中华人民共和国义务教育法",
    "Construction Law": "中华人民共和国建筑法",
    "Customs Law": "中华人民共和国海关法",
    "Cybersecurity Law": "中华人民共和国网络安全法",
    "Decision of the NPC Standing Committee on Gradually Raising the Statutory Retirement Age"
    " (2024)": "全国人民代表大会常务委员会关于实施渐进式延迟法定退休年龄的决定（2024）",
    "Deed Tax Law": "中华人民共和国契税法",
    "Detailed Rules for Implementation of the Interim Regulations on Real Estate Registration": (
        "不动产登记暂行条例实施细则"
    ),
    "Electric Power Law": "中华人民共和国电力法",
    "Electronic Signature Law": "中华人民共和国电子签名法",
    "Employment Promotion Law": "中华人民共和国就业促进法",
    "Energy Conservation Law": "中华人民共和国节约能源法",
    "Enterprise Income Tax Law": "中华人民共和国企业所得税法",
    "Environmental Impact Assessment Law": "中华人民共和国环境影响评价法",
    "Environmental Protection Tax Law": "中华人民共和国环境保护税法",
    "Exit and Entry Administration Law": "中华人民共和国出境入境管理法",
    "Farmland Occupation Tax Law": "中华人民共和国耕地占用税法",
    "Fire Protection Law": "中华人民共和国消防法",
    "Food Safety Law": "中华人民共和国食品安全法",
    "Forest Law": "中华人民共和国森林法",
    "GA 38-2021": "银行营业场所安全防范要求（GA 38-2021）",
    "Government Procurement Law": "中华人民共和国政府采购法",
    "Guiding Opinions on Community Management Services for Retirees (2019)": (
        "关于进一步做好退休人员社会化管理服务工作的指导意见（2019）"
    ),
    "Guiding Opinions on Establishing the Dual-channel Management of Negotiated Drugs"
    " (Yibaofa [2021] No. 28)": "关于建立完善国家医保谈判药品“双通道”管理机制的指导意见（医保发〔2021〕28号）",
    "Guiding Opinions on Expanding Long-term Care Insurance Pilots (Yibaofa [2020] No. 37)": (
        "关于扩大长期护理保险制度试点的指导意见（医保发〔2020〕37号）"
    ),
    "Guiding Opinions on Government Financing Guarantees for Small and Micro Enterprises"
    " (Guofa [2019] No. 6)": "国务院关于有效发挥政府性融资担保基金作用切实支持小微企业和“三农”发展的指导意见（国发〔2019〕6号）",
    "Guiding Opinions on Promoting Funeral Reform (Minfa [2018] No. 5)": (
        "关于进一步推动殡葬改革促进殡葬事业发展的指导意见（民发〔2018〕5号）"
    ),
    "Guiding Opinions on Promoting Sponge City Construction (Guobanfa [2015] No. 75)": (
        "国务院办公厅关于推进海绵城市建设的指导意见（国办发〔2015〕75号）"
    ),
    "Guiding opinions on the reform of employee medical insurance personal accounts"
    " (Guobanfa [2021] No. 14)": "国务院办公厅关于建立健全职工基本医疗保险门诊共济保障机制的指导意见（国办发〔2021〕14号）",
    "Hunan Basic Funeral Service Subsidy Measures": "湖南省基本殡葬服务补贴办法",
    "Hunan Labour Contract Regulations": "湖南省劳动合同条例",
    "Hunan Measures for Assistive Devices for Disabled Persons": "湖南省残疾人辅助器具适配补贴办法",
    "Hunan Measures for Children of Migrant Workers Receiving Compulsory Education": (
        "湖南省进城务工人员随迁子女接受义务教育实施办法"
    ),
    "Hunan Measures for Implementing the Civil Air Defence Law": "湖南省实施《中华人民共和国人民防空法》办法",
    "Hunan Measures for Outpatient Chronic and Special Diseases (2021)": "湖南省门诊慢特病管理办法（2021）",
    "Hunan Population and Family Planning Regulations": "湖南省人口与计划生育条例",
    "Hunan Regulations on the Protection of Persons with Disabilities": "湖南省残疾人保障条例",
    "Hunan Urban Water Supply and Conservation Regulations": "湖南省城市供水和节约用水条例",
    "Hunan opinions on household registration reform (2015)": "湖南省人民政府关于进一步推进户籍制度改革的实施意见（2015）",
    "Implementation Plan for the Childcare Subsidy System (General Offices of the CPC Central"
    " Committee and the State Council, 2025)": "育儿补贴制度实施方案（中共中央办公厅、国务院办公厅，2025）",
    "Individual Income Tax Law": "中华人民共和国个人所得税法",
    "Interim Measures for Social Assistance": "社会救助暂行办法",
    "Interim Measures for Special Additional Deductions": "个人所得税专项附加扣除操作办法（试行）",
    "Interim Measures for Transfer of Basic Medical Insurance Relationships of Floating"
    " Population": "流动就业人员基本医疗保障关系转移接续暂行办法",
    "Interim Measures for Transfer of Basic Pension Insurance Relationship": (
        "城镇企业职工基本养老保险关系转移接续暂行办法"
    ),
    "Interim Measures of Hunan on Maternity Insurance": "湖南省职工生育保险暂行办法",
    "Interim Provisions on Fire Protection Design Review and Acceptance": "建设工程消防设计审查验收管理暂行规定",
    "Interim Regulations on Property Tax": "中华人民共和国房产税暂行条例",
    "Interim Regulations on Real Estate Registration": "不动产登记暂行条例",
    "Interim Regulations on Residence Permits": "居住证暂行条例",
    "Interim Regulations on Social Insurance Registration": "社会保险登记管理暂行办法",
    "Interim Regulations on Urban Land Use Tax": "中华人民共和国城镇土地使用税暂行条例",
    "Labour Contract Law": "中华人民共和国劳动合同法",
    "Labour Law": "中华人民共和国劳动法",
    "Land Administration Law": "中华人民共和国土地管理法",
    "Law on Maternal and Infant Health Care": "中华人民共和国母婴保健法",
    "Law on Prevention and Control of Occupational Diseases": "中华人民共和国职业病防治法",
    "Law on Promotion of Small and Medium-sized Enterprises": "中华人民共和国中小企业促进法",
    "Law on Protecting Against and Mitigating Earthquake Disasters": "中华人民共和国防震减灾法",
    "Law on Water and Soil Conservation": "中华人民共和国水土保持法",
    "Law on the Administration of Tax Collection": "中华人民共和国税收征收管理法",
    "Law on the Prevention and Control of Environmental Pollution by Solid Waste": (
        "中华人民共和国固体废物污染环境防治法"
    ),
    "Law on the Protection of Cultural Relics": "中华人民共和国文物保护法",
    "Law on the Protection of Minors": "中华人民共和国未成年人保护法",
    "Law on the Protection of Persons with Disabilities": "中华人民共和国残疾人保障法",
    "Law on the Protection of Veterans": "中华人民共和国退役军人保障法",
    "Law on the Protection of the Rights and Interests of the Elderly": "中华人民共和国老年人权益保障法",
    "Legal Aid Law": "中华人民共和国法律援助法",
    "Measures for Approving Irregular and Comprehensive Working Hours (Laobufa [1994] No. 503)": (
        "关于企业实行不定时工作制和综合计算工时工作制的审批办法（劳部发〔1994〕503号）"
    ),
    "Measures for Citizens Travelling to and from Hong Kong and Macao for Private Purposes": (
        "中国公民因私事往来香港地区或者澳门地区的暂行管理办法"
    ),
    "Measures for Citizens Travelling to and from the Taiwan Region": "中国公民往来台湾地区管理办法",
    "Measures for Classified Protection of Information Security": "信息安全等级保护管理办法",
    "Measures for Distributed Photovoltaic Power Generation (2025)": "分布式光伏发电开发建设管理办法（2025）",
    "Measures for Enterprise Annuities": "企业年金办法",
    "Measures for Equity Pledge Registration": "股权出质登记办法",
    "Measures for Explosive-Precursor Chemicals": "易制爆危险化学品治安管理办法",
    "Measures for General VAT Taxpayer Registration": "增值税一般纳税人登记管理办法",
    "Measures for Handling Enterprise Income Tax Incentives (2018)": "企业所得税优惠政策事项办理办法（2018）",
    "Measures for Identifying Students from Families with Financial Difficulties (2018)": (
        "关于做好家庭经济困难学生认定工作的指导意见（2018）"
    ),
    "Measures for Inquiry of Real Estate Registration Information": "不动产登记资料查询暂行办法",
    "Measures for Marriage Registration Archives": "婚姻登记档案管理办法",
    "Measures for Patent Pledge Registration": "专利权质押登记办法",
    "Measures for Pricing of Construction Projects for Buildings and Municipal Infrastructure": (
        "建筑工程施工发包与承包计价管理办法"
    ),
    "Measures for Radiological Diagnosis and Treatment": "放射诊疗管理规定",
    "Measures for Real Property Surveying": "房产测绘管理办法",
    "Measures for Review of Construction Drawings": "房屋建筑和市政基础设施工程施工图设计文件审查管理办法",
    "Measures for Student Status Administration in Primary and Secondary Schools": (
        "中小学生学籍管理办法"
    ),
    "Measures for Tax Credit Management (2014)": "纳税信用管理办法（试行）（2014）",
    "Measures for Tender Announcements and Publicity (2017)": "招标公告和公示信息发布管理办法（2017）",
    "Measures for Tendering of Construction Projects for Buildings and Municipal Infrastructure": (
        "房屋建筑和市政基础设施工程施工招标投标管理办法"
    ),
    "Measures for Tendering of Highway Projects": "公路工程建设项目招标投标管理办法",
    "Measures for Trademark Pledge Registration": "注册商标专用权质押登记程序规定",
    "Measures for the Administration of Disability Certificates": "残疾人证管理办法",
    "Measures for the Administration of Food Business Licensing and Filing": "食品经营许可和备案管理办法",
    "Measures for the Administration of Government Non-tax Revenues (2016)": "政府非税收入管理办法（2016）",
    "Measures for the Administration of High-risk Sports Businesses": "高危险性体育项目经营许可管理办法",
    "Measures for the Administration of Invoices": "中华人民共和国发票管理办法",
    "Measures for the Administration of Pawning": "典当管理办法",
    "Measures for the Administration of Public Resource Trading Platforms (2016)": (
        "公共资源交易平台管理暂行办法（2016）"
    ),
    "Measures for the Administration of Public Security in the Hotel Industry": "旅馆业治安管理办法",
    "Measures for the Administration of RMB Bank Settlement Accounts": "人民币银行结算账户管理办法",
    "Measures for the Administration of Sales of Commodity Houses": "商品房销售管理办法",
    "Measures for the Administration of Tax Payment Certificates": "税收票证管理办法",
    "Measures for the Administration of Temporary Resident Identity Cards": "临时居民身份证管理办法",
    "Measures of Hunan for the Administration of Employment Subsidy Funds": "湖南省就业补助资金管理办法",
    "Meteorology Law": "中华人民共和国气象法",
    "Metrology Law": "中华人民共和国计量法",
    "Mineral Resources Law": "中华人民共和国矿产资源法",
    "Ministry of Public Security notice on household registration certificates (2016)": (
        "公安部关于规范户口证明出具工作的通知（2016）"
    ),
    "Notarization Law": "中华人民共和国公证法",
    "Notice of MOHRSS on Eligibility Authentication for Social Insurance Benefits (2018)": (
        "人力资源社会保障部关于发布社会保险待遇资格认证有关事项的通知（2018）"
    ),
    "Notice of NHSA on Promoting the Medical Insurance E-voucher (2020)": "国家医保局关于全面推广应用医保电子凭证的通知（2020）",
    "Notice on Further Improving Direct Settlement of Cross-Provincial Medical Expenses"
    " (Yibaofa [2022] No. 22)": "关于进一步做好基本医疗保险跨省异地就医直接结算工作的通知（医保发〔2022〕22号）",
    "Notice on Government Procurement Contract Financing (Caiku [2017] No. 76)": (
        "关于促进政府采购公平竞争优化营商环境的通知（财库〔2017〕76号）"
    ),
    "Notice on Implementing the One-off Employment Absorption Subsidy (Renshebufa [2022]"
    " No. 41)": "关于做好一次性扩岗补助发放工作的通知（人社部发〔2022〕41号）",
    "Notice on Improving the Guaranteed Loan Policy for Entrepreneurship (Caijin [2020] No. 21)": (
        "关于进一步加大创业担保贷款贴息力度全力支持重点群体创业就业的通知（财金〔2020〕21号）"
    ),
    "Notice on Job Retention Refunds (Renshebufa [2024] No. 40)": "关于继续实施失业保险稳岗返还政策的通知（人社部发〔2024〕40号）",
    "Notice on the Bank-Tax Interaction (2015)": "关于开展“银税互动”助力小微企业发展活动的通知（2015）",
    "Notice on the Issuance of Medical Certificates of Death (Guoweiguihuafa [2013] No. 57)": (
        "关于进一步规范人口死亡医学证明和信息登记管理工作的通知（国卫规划发〔2013〕57号）"
    ),
    "Opinions of the MPS on Issuing Certificates of No Criminal Record (Gongtongzi [2021]"
    " No. 19)": "公安机关办理犯罪记录查询工作规定（公通字〔2021〕19号）",
    "Opinions of the State Council on the Rehabilitation Assistance System for Disabled Children"
    " (Guofa [2018] No. 20)": "国务院关于建立残疾儿童康复救助制度的意见（国发〔2018〕20号）",
    "Opinions of the State Council on the Two Subsidies for Disabled Persons (Guofa [2015]"
    " No. 52)": "国务院关于全面建立困难残疾人生活补贴和重度残疾人护理补贴制度的意见（国发〔2015〕52号）",
    "Opinions on Merging Maternity and Employee Medical Insurance (Guobanfa [2019] No. 10)": (
        "国务院办公厅关于全面推进生育保险和职工基本医疗保险合并实施的意见（国办发〔2019〕10号）"
    ),
    "Opinions on Personnel File Services for Mobile Workers (2021)": "关于进一步加强流动人员人事档案管理服务工作的通知（2021）",
    "PBOC decision to cancel account licensing (2019)": "中国人民银行关于取消企业银行账户许可的通知（2019）",
    "Passport Law": "中华人民共和国护照法",
    "Patent Law": "中华人民共和国专利法",
    "Plan for Reform of the State and Local Tax Collection Administration (2018)": (
        "国税地税征管体制改革方案（2018）"
    ),
    "Population and Family Planning Law": "中华人民共和国人口与计划生育法",
    "Provisions on Customs Declarant Registration": "中华人民共和国海关报关单位备案管理规定",
    "Provisions on Driving Licence Application and Use": "机动车驾驶证申领和使用规定",
    "Provisions on Employment Services and Management": "就业服务与就业管理规定",
    "Provisions on Seismic Fortification of Out-of-code High-rise Buildings": "超限高层建筑工程抗震设防管理规定",
    "Provisions on Tendering of Water Conservancy Projects": "水利工程建设项目招标投标管理规定",
    "Provisions on Urban Construction Waste": "城市建筑垃圾管理规定",
    "Provisions on the Retirement Age of Workers (State Council, 1978, as amended 2024)": (
        "国务院关于工人退休、退职的暂行办法（1978年，2024年修改）"
    ),
    "Regulations for the Implementation of the Bidding Law": "中华人民共和国招标投标法实施条例",
    "Regulations for the Implementation of the Forest Law": "中华人民共和国森林法实施条例",
    "Regulations for the Implementation of the Land Administration Law": "中华人民共和国土地管理法实施条例",
    "Regulations on Electricity Supply and Use": "电力供应与使用条例",
    "Regulations on Energy Conservation in Civil Buildings": "民用建筑节能条例",
    "Regulations on Environmental Protection Management of Construction Projects": (
        "建设项目环境保护管理条例"
    ),
    "Regulations on Funeral and Interment Administration": "殡葬管理条例",
    "Regulations on Guaranteeing Payment of Wages to Migrant Workers": "保障农民工工资支付条例",
    "Regulations on Household Registration": "中华人民共和国户口登记条例",
    "Regulations on Internet Access Service Business Premises": "互联网上网服务营业场所管理条例",
    "Regulations on Marriage Registration": "婚姻登记条例",
    "Regulations on Optimising the Business Environment": "优化营商环境条例",
    "Regulations on Pensions and Preferential Treatment for Servicemen": "军人抚恤优待条例",
    "Regulations on Prevention of Meteorological Disasters": "气象灾害防御条例",
    "Regulations on River Course Management": "中华人民共和国河道管理条例",
    "Regulations on Safety Management of Large-scale Mass Activities": "大型群众性活动安全管理条例",
    "Regulations on Security Work of Enterprises and Institutions": "企业事业单位内部治安保卫条例",
    "Regulations on Survey and Design of Construction Projects": "建设工程勘察设计管理条例",
    "Regulations on Unemployment Insurance": "失业保险条例",
    "Regulations on Urban Drainage and Sewage Treatment": "城镇排水与污水处理条例",
    "Regulations on Urban Greening": "城市绿化条例",
    "Regulations on Urban Roads Administration": "城市道路管理条例",
    "Regulations on Work Injury Insurance": "工伤保险条例",
    "Regulations on Work Safety of Construction Projects": "建设工程安全生产管理条例",
    "Regulations on the Administration of Civil Explosives": "民用爆炸物品安全管理条例",
    "Regulations on the Administration of Commercial Performances": "营业性演出管理条例",
    "Regulations on the Administration of Entertainment Venues": "娱乐场所管理条例",
    "Regulations on the Administration of Housing Provident Funds": "住房公积金管理条例",
    "Regulations on the Administration of Market Entity Registration": "中华人民共和国市场主体登记管理条例",
    "Regulations on the Administration of Pollutant Discharge Permits": "排污许可管理条例",
    "Regulations on the Administration of Public Place Hygiene": "公共场所卫生管理条例",
    "Regulations on the Administration of Security Services": "保安服务管理条例",
    "Regulations on the Administration of Urban Construction Archives": "城市建设档案管理规定",
    "Regulations on the Administration of Urban Gas": "城镇燃气管理条例",
    "Regulations on the Administration of the Credit Reporting Industry": "征信业管理条例",
    "Regulations on the Appearance and Environmental Sanitation of Cities": "城市市容和环境卫生管理条例",
    "Regulations on the Employment of Persons with Disabilities": "残疾人就业条例",
    "Regulations on the Management of Medical Records in Medical Institutions": "医疗机构病历管理规定",
    "Regulations on the Quality Management of Construction Projects": "建设工程质量管理条例",
    "Regulations on the Safe Management of Hazardous Chemicals": "危险化学品安全管理条例",
    "Renewable Energy Law": "中华人民共和国可再生能源法",
    "Resident Identity Card Law": "中华人民共和国居民身份证法",
    "Road Traffic Safety Law": "中华人民共和国道路交通安全法",
    "SAT announcement on tax UKeys (2019)": "国家税务总局关于税务UKey发放有关事项的公告（2019）",
    "Service Guide for Foreigners' Work Permits (2017)": "外国人来华工作许可服务指南（2017）",
    "Social Insurance Law": "中华人民共和国社会保险法",
    "Special Equipment Safety Law": "中华人民共和国特种设备安全法",
    "Sports Law": "中华人民共和国体育法",
    "Stamp Duty Law": "中华人民共和国印花税法",
    "State Council Decision on Administrative Licensing": "国务院对确需保留的行政审批项目设定行政许可的决定",
    "State Council Decision on Unified Registration of Movables and Rights Security"
    " (Guofa [2020] No. 18)": "国务院关于实施动产和权利担保统一登记的决定（国发〔2020〕18号）",
    "Surveying and Mapping Law": "中华人民共和国测绘法",
    "Telecommunications Regulations": "中华人民共和国电信条例",
    "Urban Maintenance and Construction Tax Law": "中华人民共和国城市维护建设税法",
    "Urban Real Estate Administration Law": "中华人民共和国城市房地产管理法",
    "Urban Water Supply Regulations": "城市供水条例",
    "Urban and Rural Planning Law": "中华人民共和国城乡规划法",
    "Vaccine Administration Law": "中华人民共和国疫苗管理法",
    "Value-added Tax Law": "中华人民共和国增值税法",
    "Vocational Education Law": "中华人民共和国职业教育法",
    "Water Law": "中华人民共和国水法",
}
